"""Lazy, quiet import of TensorFlow and Keras.

Only training, evaluation of the regression baseline and the TF engine need TensorFlow
(~2.5 s and ~650 MB to import); everything else must not pay for it, so modules import it
through :func:`tensorflow` / :func:`keras` at call time, never at module level. TensorFlow
comes with the ``train`` extra; where it is not installed, either says so in one line
(:class:`~improviser.errors.MissingExtraError`: ``pip install 'improviser[train]'``).
"""

from __future__ import annotations

import os
from typing import Any

from improviser.errors import missing_extra

__all__ = ["TF_FEATURES", "keras", "keras_tf_trainer", "tensorflow"]

TF_FEATURES = "training, evaluating a regression model and the TF engine"
"""What needs TensorFlow, as the missing-extra line names it."""


def _quiet() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def tensorflow() -> Any:
    """The ``tensorflow`` module, imported on first use with its C++ logging quietened."""
    _quiet()
    try:
        import tensorflow as tf  # noqa: PLC0415
    except ImportError as exc:
        raise missing_extra(exc, "train", TF_FEATURES) from None
    return tf


def keras() -> Any:
    """The ``keras`` (3.x) module, on the TensorFlow backend."""
    _quiet()
    tensorflow()
    try:
        import keras as k  # noqa: PLC0415
    except ImportError as exc:
        raise missing_extra(exc, "train", TF_FEATURES) from None
    return k


def keras_tf_trainer() -> Any:
    """Keras's TensorFlow trainer module (``keras.src.backend.tensorflow.trainer``).

    Private API: only :mod:`improviser.training.multiworker` uses it, to work around
    Keras 3's ``fit`` under ``MultiWorkerMirroredStrategy`` (keras-team/keras#20585).
    """
    keras()
    from keras.src.backend.tensorflow import trainer  # noqa: PLC0415

    return trainer
