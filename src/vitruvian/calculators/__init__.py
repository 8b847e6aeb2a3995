"""Pure numpy/OpenCV steps of the BlazePose graph, one module per MediaPipe calculator.

Each function takes and returns plain numpy arrays or small dataclasses from
:mod:`vitruvian.types`; none of them hold state or touch a model.
"""
