"""``vitruvian bench``: latency, extraction throughput and memory, vitruvian against MediaPipe.

Sections, chosen with ``--mode static|video|extract|soak|models|batch|people|all`` (default
``all`` = static, video and extract; soak, models, batch and people run only when asked for),
each for the selected model complexities (``--complexity``, default 0 1 2; 1 in soak, batch
and people modes):

**Backends** (``--backend litert,onnxruntime-cpu``, a comma-separated list of the names of
:mod:`vitruvian.models.backends`): the static and video modes time ours on each backend side by
side in the same run (same inputs, same thread count, passes interleaved), one row per
implementation and backend, the backend in the row label (``vitruvian `Pose` (litert)``) and in
the JSON name (``ours_pose@litert``); the models and batch modes take one entry per backend.
Without ``--backend`` only the default backend is timed, with the plain labels and names.

* **Static-image latency** (:mod:`vitruvian.benchmark.latency`): the per-image time of
  ``process(rgb)`` in static-image mode on the shared images (``coco/images/*.jpg`` and
  ``mmpose/*.jpg`` under ``--data-dir``, default ``../shared/data``; decoded once up front with
  ``cv2.imread`` + BGR to RGB, outside the timing), for

  - ``vitruvian.solutions.pose.Pose(static_image_mode=True, model_complexity=c)`` (the
    MediaPipe-compatible API, landmark containers included),
  - ``vitruvian.pipeline.PosePipeline(c)`` (the numpy-first core), and
  - ``mediapipe.solutions.pose.Pose(static_image_mode=True, model_complexity=c)``, when a
    reference Python with ``mediapipe`` is given (``--reference-python PATH`` or the
    ``VITRUVIAN_REFERENCE_PYTHON`` environment variable). It runs in a long-lived subprocess
    (:mod:`vitruvian.reference.worker`, run by file path) that decodes the same
    files the same way.

  Protocol: each implementation gets one untimed warm-up pass over all images, then
  ``--repeats`` timed passes; every ``process`` call is timed with ``time.perf_counter``. The
  passes of the implementations are interleaved (warm-ups first, then timed pass 1 of each,
  pass 2 of each, ..., with the order rotated every pass) so that machine noise hits all of
  them alike. Reported: the median and the 10th / 90th percentiles over all timed calls, in ms;
  the number of images with a pose; the ratio of medians ours / MediaPipe; the peak RSS.

* **Cold start** (static section): a fresh interpreter (``python -c``) that imports the library,
  loads the models and processes one image (the image's decoding is excluded); median of
  ``--cold-runs`` (default 3) launches, ours and MediaPipe alternating. The operating system's
  file cache is warm (the models have just been read), as on any repeated launch. The launch's
  wall time as seen from the parent (interpreter start-up and shutdown included) is recorded.

* **Video-mode latency**: the per-frame time of ``process(rgb)`` on a video stream
  (``--video``, default ``DATA_DIR/video/pose_squats.mp4``; every frame decoded once up front
  with ``cv2.VideoCapture`` + BGR to RGB, outside the timing) with
  ``vitruvian.solutions.pose.Pose(static_image_mode=False, model_complexity=c,
  enable_segmentation=s)`` and MediaPipe's ``Pose(model_complexity=c, enable_segmentation=s)``
  (video mode, every other option at its default), for segmentation off and on
  (``--video-segmentation off|on|both``, default ``both``). A pass is one fresh ``Pose`` run
  over all frames in order (its construction is not timed), so each pass starts with a
  detection and then tracks. Warm-up and interleaving as above. Reported: median, mean, 10th /
  90th percentile ms per frame, CPU ms per frame, frames with a pose, for ours the
  person-detector runs per pass (``pose.stats``), the ratios ours / MediaPipe of the medians
  and of the means, the peak RSS.

* **Offline extraction** (:mod:`vitruvian.benchmark.extraction`): frames per second end to end
  from the video file (decoding, inference, landmark rows in memory) with ours' batch
  extractor (:mod:`vitruvian.extract`), ours' plain frame loop and MediaPipe's frame loop, on
  the squats clip and on a longer clip made by playing it forwards and backwards
  (``--extract-frames``, default 650); ratio ours / MediaPipe in frames/s.

* **Soak** (:mod:`vitruvian.benchmark.soak`): resident memory sampled over 20,000 video-mode
  frames (``--soak-frames``) and 3,000 static-mode calls (``--soak-images``); growth from the
  baseline sample (frame 2,000) to the end.

* **Model-only latency** (``--mode models``, :mod:`vitruvian.benchmark.model_latency`): the
  detector and the landmark model of each selected complexity alone (``run`` on one batch-1
  input, after warm-up), per backend: median and percentiles of ms per call, load time.

* **Batch throughput** (``--mode batch``, :mod:`vitruvian.benchmark.batch`): images/s and ms
  per image of ``PosePipeline.process_batch`` at each ``--batch-sizes`` (default 1 2 4 8 16)
  against the one-by-one ``process`` loop, per backend, on the static mode's images (on LiteRT
  the batches run item by item).

* **Several people** (``--mode people``, :mod:`vitruvian.benchmark.people`): video-mode ms per
  frame and per person with 1, 2 and 4 people tracked (copies of the clip side by side,
  ``PoseTracker(num_poses=N)``), and the detector and landmark-model runs per frame.

* **Profile** (``--profile``, :mod:`vitruvian.benchmark.profiling`): cProfile's top 20
  functions by own time of ours in video mode at complexity 1.

Peak RSS: the process's ``VmHWM``, reset before each pass (``/proc/self/clear_refs``, Linux,
after ``gc.collect()`` and glibc's ``malloc_trim`` so that memory freed by earlier sections does
not count), so it is the peak during that pass; elsewhere ``ru_maxrss``, the peak since the
process started.

Results are printed as Markdown tables on stdout (progress goes to stderr); ``--json PATH`` also
writes everything, per-call times included (sections under the ``"video"``, ``"extract"``,
``"soak"``, ``"models"``, ``"batch"``, ``"people"`` and ``"profile"`` keys; the static section under
``"results"``).

Usage::

    vitruvian bench                                             # ours only
    vitruvian bench --reference-python PATH/TO/mediapipe-env/bin/python --json out.json
    vitruvian bench --quick --complexity 0                      # smoke test
    vitruvian bench --mode extract --complexity 1               # extraction throughput only
    vitruvian bench --mode soak --json soak.json                # memory over 20,000 frames
    vitruvian bench --mode static --backend litert,onnxruntime-cpu   # backends side by side
    vitruvian bench --mode models --backend litert,onnxruntime-cpu   # the networks alone
    vitruvian bench --mode batch --batch-sizes 1,2,4,8,16 --backend litert,onnxruntime-cpu
"""

from __future__ import annotations

from vitruvian.benchmark.main import bench_command, main, parse_args, run_benchmark

__all__ = ["bench_command", "main", "parse_args", "run_benchmark"]
