"""``vitruvian bench``: latency, throughput, cold start and memory (:mod:`vitruvian.benchmark`,
whose click command this registers: its options and checks live there, beside the code that
uses them)."""

from __future__ import annotations

from vitruvian.benchmark.main import bench_command
from vitruvian.cli.app import cli

cli.add_command(bench_command, "bench")
