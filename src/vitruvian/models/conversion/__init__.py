"""TFLite -> ONNX conversion of the BlazePose models, without TensorFlow.

:func:`~vitruvian.models.conversion.tflite_reader.read_tflite` parses the flatbuffer (weights
unpacked: DENSIFY, DEQUANTIZE), :func:`~vitruvian.models.conversion.tflite_to_onnx.graph_to_onnx`
emits an NCHW ONNX graph with a dynamic batch, and
:func:`~vitruvian.models.conversion.cache.onnx_model_path` converts each pinned model once and
caches the result beside its ``.tflite``. (Its old place, ``vitruvian.conversion``, still
imports, with a deprecation warning.)

Needs the ``onnx`` extra: ``pip install 'vitruvian[onnx]'``.
"""
