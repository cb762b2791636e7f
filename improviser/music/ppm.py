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

Storage is plain dicts of ints (``levels[k][context][symbol] = count`` and
``totals[k][context]``), not an object per context: CPython's cycle collector does not
track a dict that holds only ints, so a short-term model of a long session (hundreds of
thousands of contexts) adds almost nothing to a full collection. With one object per
context it added 20-30 ms pauses on the live path after 20,000 notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["ContextCounts", "Followers"]

F64 = npt.NDArray[np.float64]
Key = tuple[int, ...]
Followers = dict[int, int]
"""What followed one context: symbol -> count."""
_DENSE = 24
"""A context with more distinct followers than this is blended with NumPy, not a loop."""


class ContextCounts:
    """Counts of what followed every context of up to ``order`` symbols, over ``vocab``."""

    def __init__(self, order: int, vocab: int) -> None:
        if order < 0:
            raise ValueError(f"order must be >= 0, got {order}")
        if vocab < 1:
            raise ValueError(f"vocab must be >= 1, got {vocab}")
        self.order = order
        self.vocab = vocab
        self.levels: list[dict[Key, Followers]] = [{} for _ in range(order + 1)]
        """``levels[k]``: the contexts of k symbols (oldest first) and what followed them."""
        self.totals: list[dict[Key, int]] = [{} for _ in range(order + 1)]
        """``totals[k][context]``: how many symbols followed it."""
        self._arrays: dict[Key, tuple[npt.NDArray[np.int64], F64]] = {}
        """Array views of the large contexts, by key (keys of different lengths differ)."""

    def add(self, history: Sequence[int], symbol: int) -> None:
        """Count ``symbol`` after each of the last 0..order symbols of ``history``."""
        h = tuple(history)
        n = len(h)
        arrays = self._arrays
        for k in range(min(self.order, n) + 1):
            key = h[n - k :]
            followers = self.levels[k].get(key)
            if followers is None:
                followers = self.levels[k][key] = {}
            followers[symbol] = followers.get(symbol, 0) + 1
            totals = self.totals[k]
            totals[key] = totals.get(key, 0) + 1
            if arrays:
                arrays.pop(key, None)

    def remove(self, history: Sequence[int], symbol: int) -> None:
        """Take back one :meth:`add` of ``symbol`` after ``history``, exactly."""
        h = tuple(history)
        n = len(h)
        for k in range(min(self.order, n) + 1):
            key = h[n - k :]
            followers = self.levels[k][key]
            left = followers[symbol] - 1
            if left:
                followers[symbol] = left
            else:
                del followers[symbol]
            totals = self.totals[k]
            totals[key] -= 1
            if not totals[key]:
                del totals[key], self.levels[k][key]
            self._arrays.pop(key, None)

    def add_sequence(self, seq: Iterable[int]) -> None:
        """Count every symbol of ``seq`` after each of its contexts within the sequence."""
        s = [int(v) for v in seq]
        for i, x in enumerate(s):
            self.add(s[max(0, i - self.order) : i], x)

    def contexts(self, history: Sequence[int]) -> list[tuple[Key, Followers, int]]:
        """The seen contexts ending ``history``, shortest (the empty one) first: each
        context, what followed it and how many times."""
        h = tuple(history)
        n = len(h)
        found = []
        for k in range(min(self.order, n) + 1):
            key = h[n - k :]
            followers = self.levels[k].get(key)
            if followers is None:
                break
            found.append((key, followers, self.totals[k][key]))
        return found

    def _array_view(self, key: Key, followers: Followers) -> tuple[npt.NDArray[np.int64], F64]:
        """The symbols and counts of a context as arrays (cached until it changes)."""
        view = self._arrays.get(key)
        if view is None:
            view = self._arrays[key] = (
                np.fromiter(followers.keys(), dtype=np.int64, count=len(followers)),
                np.fromiter(followers.values(), dtype=np.float64, count=len(followers)),
            )
        return view

    def distribution(self, history: Sequence[int]) -> F64:
        """The next-symbol distribution after ``history`` (most recent symbol last)."""
        # Expanded from the longest context down: P(x) = Σ_k c_k(x)/n_k · Π_{j>k} T_j/n_j
        # + Π_k T_k/n_k / vocab, with n_k = c_k + T_k. Small contexts accumulate in a
        # dict (a few symbols each, cheaper than NumPy calls), large ones in the array.
        p = np.zeros(self.vocab, dtype=np.float64)
        sparse: dict[int, float] = {}
        weight = 1.0
        for key, followers, total in reversed(self.contexts(history)):
            types = len(followers)
            denom = total + types
            scale = weight / denom
            if types > _DENSE:
                symbols, counts = self._array_view(key, followers)
                p[symbols] += counts * scale
            else:
                for symbol, count in followers.items():
                    sparse[symbol] = sparse.get(symbol, 0.0) + count * scale
            weight *= types / denom
        p += weight / self.vocab
        for symbol, mass in sparse.items():  # item by item: cheaper than two arrays here
            p[symbol] += mass
        return p
