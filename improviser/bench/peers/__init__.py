"""The bundled models on their peers' runtimes: ONNX Runtime and LiteRT, for ``bench latency``.

One step of the model (a token and every layer's ``h``/``c`` in; each head's probabilities
and the new states out; batch 1) is traced once as a ``tf.function`` from the ``.keras``
file's own layers (:mod:`~improviser.bench.peers.export`) and converted twice: by tf2onnx
to ONNX, by TensorFlow's ``TFLiteConverter`` to a ``.tflite`` flat buffer. The steppers
(:mod:`~improviser.bench.peers.steppers`) run those files one note at a time with the
state carried by the caller, as the package's own engines carry theirs;
:mod:`~improviser.bench.peers.rows` times them beside the NumPy and native engines.

Benchmark only: the runtimes come with the ``bench`` extra, and nothing a live session
imports imports this package.
"""
