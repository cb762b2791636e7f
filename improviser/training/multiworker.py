"""Keras 3's ``fit`` under ``MultiWorkerMirroredStrategy``, made to work.

Keras 3 (3.15 here, TensorFlow 2.21) cannot ``fit`` under ``MultiWorkerMirroredStrategy``
(keras-team/keras#20585, open): before the first step it averages a batch of
per-replica dicts across workers to build the model symbolically, which TensorFlow
refuses, and after every step it averages each scalar metric "along axis 0", which a
scalar has not. :func:`multi_worker_fit` works around both, for a multi-worker strategy
only: the model and its optimizer are built up front inside the strategy's scope (so the
symbolic build is not needed), ``fit`` runs inside that scope, and the metrics are
averaged across workers as scalars. The training itself (data, model, loss, optimizer,
callbacks) is unchanged: ``tests/test_multiworker.py`` trains a tiny model on two local
workers and finds the same weights on both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from improviser.inference.tfload import keras, keras_tf_trainer

__all__ = ["is_multi_worker", "multi_worker_fit"]


def is_multi_worker(strategy: Any) -> bool:
    """Whether ``strategy`` all-reduces across worker processes."""
    trainer = keras_tf_trainer()
    return bool(trainer._collective_all_reduce_multi_worker(strategy))


@contextmanager
def _scalar_metric_reduction() -> Iterator[None]:
    trainer = keras_tf_trainer()
    original: Callable[..., Any] = trainer.reduce_per_replica

    def reduce(values: Any, strategy: Any, reduction: str) -> Any:
        if reduction in ("auto", "mean") and is_multi_worker(strategy):
            return keras().tree.map_structure(
                lambda v: strategy.reduce("MEAN", v, axis=None), values
            )
        return original(values, strategy, reduction)

    trainer.reduce_per_replica = reduce
    try:
        yield
    finally:
        trainer.reduce_per_replica = original


def multi_worker_fit(model: Any, strategy: Any, **fit: Any) -> Any:
    """``model.fit(**fit)``, under ``strategy``; the Keras 3 workarounds when multi-worker."""
    if not is_multi_worker(strategy):
        return model.fit(**fit)
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)
    model._distribute_strategy = None
    with _scalar_metric_reduction(), strategy.scope():
        return model.fit(**fit)
