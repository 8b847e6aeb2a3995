"""Deprecated location of the benchmark: same as ``vitruvian bench`` (see vitruvian.benchmark)."""

import sys

from vitruvian.benchmark import main

if __name__ == "__main__":
    sys.exit(main(prog="scripts/bench.py"))
