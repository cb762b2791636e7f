"""Keeping the cycle collector's full collections off the MIDI path.

A full collection walks every tracked container. What a session keeps for its whole
life (the imports, the model, the listener's count tables, which grow with every note)
would be walked each time one runs, on the loop thread, between two notes: measured
here, 7 ms for the imports alone, 20 ms once the short-term model had heard 5,000
varied notes, 45 ms after 20,000. :func:`settle` collects the young generations (a few
hundred objects, well under a millisecond) and freezes what survives (``gc.freeze``),
so those objects are never walked again; after it a full collection costs a fraction of
a millisecond. The session settles once at start and then every
:data:`SETTLE_SECONDS` when no note came for :data:`SETTLE_IDLE_SECONDS`. Young
collections still come every few hundred allocations, each some tens of µs: the
session's pause work (:func:`collect_young_if_due`) runs one when it is half due, so
they fall in the pauses, not on a note (the MQTT bridge's messages make them come
more often); so does the full collection that enough of them make due. The price of freezing:
garbage that survived a young collection inside a reference cycle is frozen too and never
freed (a few objects per settle at most).
"""

from __future__ import annotations

import gc

__all__ = ["SETTLE_IDLE_SECONDS", "SETTLE_SECONDS", "collect_young_if_due", "settle"]

SETTLE_SECONDS = 10.0
"""How often the session settles the collector."""
SETTLE_IDLE_SECONDS = 0.05
"""It settles only this long after the last note handled (never just before one)."""


def settle() -> None:
    """Collect the young generations, then freeze every object still tracked."""
    gc.collect(1)
    gc.freeze()


def collect_young_if_due() -> int | None:
    """In a pause: collect a generation that is half due; which one (or ``None``).

    Generation 0 once half its allocation threshold is used; generation 1 when its next
    collection is the next one; the full collection when it would be next after that.
    Each collection of generation 1 counts towards a full one, and the interpreter runs
    the full one at its next automatic collection once enough have: on whatever
    allocates then, a note as likely as not. Here it runs in the pause (after the
    session's freeze it walks only what came since).
    """
    (young, middle, old), (threshold0, threshold1, threshold2) = gc.get_count(), gc.get_threshold()
    if threshold0 <= 0 or 2 * young < threshold0:  # the collector off, or not half due
        return None
    generation = 0
    if middle + 1 >= threshold1:
        generation = 2 if old + 1 >= threshold2 else 1
    gc.collect(generation)
    return generation
