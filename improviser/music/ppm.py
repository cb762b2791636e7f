"""Variable-order context counts and their PPM-C blend (interpolated Witten-Bell).

:class:`ContextCounts` counts, for every context of 0..``order`` symbols, which symbols
followed it. Counting is incremental (:meth:`ContextCounts.add`) and exactly reversible
(:meth:`ContextCounts.remove`), so the same counts serve a model fit once on a corpus
(the n-gram baselines) and a model that learns note by note and takes back what it
learned (the short-term model).

:meth:`ContextCounts.distribution` blends the contexts of a history from the longest seen
down to a uniform distribution, as PPM method C does when it blends rather than escapes:
at a context ``h`` with ``c(h)`` observations of ``T(h)`` distinct next symbols,
``P(x|h) = (c(h, x) + T(h) · P(x|h')) / (c(h) + T(h))``, ``h'`` being ``h`` less its
oldest symbol. Order k means k symbols of context (PPM's convention). Contexts longer
than the longest seen one are skipped: a context containing an unseen one is unseen too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["Context", "ContextCounts"]

F64 = npt.NDArray[np.float64]
_DENSE = 24
"""A context with more distinct followers than this is blended with NumPy, not a loop."""


class Context:
    """What followed one context: a count per symbol, their total, and a cached array view."""

    __slots__ = ("_arrays", "counts", "total")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0
        self._arrays: tuple[npt.NDArray[np.int64], F64] | None = None

    def add(self, symbol: int) -> None:
        """Count one more ``symbol`` after this context."""
        self.counts[symbol] = self.counts.get(symbol, 0) + 1
        self.total += 1
        self._arrays = None

    def remove(self, symbol: int) -> None:
        """Take back one :meth:`add` of ``symbol`` (a count that reaches 0 is deleted)."""
        left = self.counts[symbol] - 1
        if left:
            self.counts[symbol] = left
        else:
            del self.counts[symbol]
        self.total -= 1
        self._arrays = None

    def arrays(self) -> tuple[npt.NDArray[np.int64], F64]:
        """The symbols and their counts as arrays (cached until the next change)."""
        if self._arrays is None:
            self._arrays = (
                np.fromiter(self.counts.keys(), dtype=np.int64, count=len(self.counts)),
                np.fromiter(self.counts.values(), dtype=np.float64, count=len(self.counts)),
            )
        return self._arrays


class ContextCounts:
    """Counts of what followed every context of up to ``order`` symbols, over ``vocab``."""

    def __init__(self, order: int, vocab: int) -> None:
        if order < 0:
            raise ValueError(f"order must be >= 0, got {order}")
        if vocab < 1:
            raise ValueError(f"vocab must be >= 1, got {vocab}")
        self.order = order
        self.vocab = vocab
        self.levels: list[dict[tuple[int, ...], Context]] = [{} for _ in range(order + 1)]
        """``levels[k]``: the contexts of k symbols (oldest first) and what followed them."""

    def add(self, history: Sequence[int], symbol: int) -> None:
        """Count ``symbol`` after each of the last 0..order symbols of ``history``."""
        h = tuple(history)
        n = len(h)
        for k in range(min(self.order, n) + 1):
            key = h[n - k :]
            level = self.levels[k]
            ctx = level.get(key)
            if ctx is None:
                ctx = level[key] = Context()
            ctx.add(symbol)

    def remove(self, history: Sequence[int], symbol: int) -> None:
        """Take back one :meth:`add` of ``symbol`` after ``history``, exactly."""
        h = tuple(history)
        n = len(h)
        for k in range(min(self.order, n) + 1):
            key = h[n - k :]
            level = self.levels[k]
            ctx = level[key]
            ctx.remove(symbol)
            if not ctx.total:
                del level[key]

    def add_sequence(self, seq: Iterable[int]) -> None:
        """Count every symbol of ``seq`` after each of its contexts within the sequence."""
        s = [int(v) for v in seq]
        for i, x in enumerate(s):
            self.add(s[max(0, i - self.order) : i], x)

    def contexts(self, history: Sequence[int]) -> list[Context]:
        """The seen contexts ending ``history``, shortest (the empty one) first."""
        h = tuple(history)
        n = len(h)
        found = []
        for k in range(min(self.order, n) + 1):
            ctx = self.levels[k].get(h[n - k :])
            if ctx is None:
                break
            found.append(ctx)
        return found

    def distribution(self, history: Sequence[int]) -> F64:
        """The next-symbol distribution after ``history`` (most recent symbol last)."""
        # Expanded from the longest context down: P(x) = Σ_k c_k(x)/n_k · Π_{j>k} T_j/n_j
        # + Π_k T_k/n_k / vocab, with n_k = c_k + T_k. Small contexts accumulate in a
        # dict (a few symbols each, cheaper than NumPy calls), large ones in the array.
        p = np.zeros(self.vocab, dtype=np.float64)
        sparse: dict[int, float] = {}
        weight = 1.0
        for ctx in reversed(self.contexts(history)):
            types = len(ctx.counts)
            denom = ctx.total + types
            scale = weight / denom
            if types > _DENSE:
                symbols, counts = ctx.arrays()
                p[symbols] += counts * scale
            else:
                for symbol, count in ctx.counts.items():
                    sparse[symbol] = sparse.get(symbol, 0.0) + count * scale
            weight *= types / denom
        p += weight / self.vocab
        for symbol, mass in sparse.items():  # item by item: cheaper than two arrays here
            p[symbol] += mass
        return p
