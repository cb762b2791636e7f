"""Develop the call, don't parrot it: the listener's replay guard.

Once the notes just played (the answer's, and the call's before them) repeat several
notes heard earlier in order, the short-term model's longest contexts predict the next
note of that earlier passage with near certainty, and an answer carried by them plays
the call back note for note: a partner who only echoes. :func:`replay_match` finds that
repeat: the longest run ending the history that occurred earlier, and the pitches that
followed it there. The :class:`~improviser.music.listener.Listener` then acts on it by
``replay_guard`` (see :class:`~improviser.config.listen.ListenConfig`):

- ``penalty``: once the run is ``replay_notes`` long, each pitch that would continue it
  is weighed by ``replay_penalty`` in the final distribution (the LSTM's share too);
- ``stm``: the same, in the short-term model's prediction only, before the blend;
- ``discount``: the short-term model's weight in the blend is multiplied by
  ``replay_penalty ** (run - replay_notes + 1)``: the longer the run, the less it counts;
- ``off``: no guard.

A motif shorter than ``replay_notes`` is untouched: it is taken up as before, and a
transposed recurrence (the same intervals from another pitch) never matches verbatim.
Chosen by measurement with ``improviser bench musicality`` (docs/musicality.md).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["HORIZON", "LONGEST", "replay_match"]

HORIZON = 96
"""Notes back that a run is looked for in (a call and its answer, with room)."""
LONGEST = 16
"""Runs are measured up to this length (a ``discount`` stops growing there)."""


def replay_match(
    history: Sequence[int], notes: int, horizon: int = HORIZON, *, measure: bool = True
) -> tuple[int, list[int]]:
    """The longest run of at least ``notes`` pitches ending ``history`` that occurred
    earlier in its last ``horizon`` notes, and the pitches that followed it there.

    Returns ``(length, followers)``; ``(0, [])`` when no run is that long. ``length`` is
    at most :data:`LONGEST`; without ``measure`` it is ``notes`` whenever a run is found
    (the followers are the same; a run is not extended past ``notes``). A few
    microseconds: the pitches (0..127) are bytes, and the last ``notes`` of them are
    looked for with ``bytes.find``; only where found is a run extended.
    """
    n = len(history)
    if notes < 1 or n <= notes:
        return 0, []
    seq = bytes(history)
    tail = seq[n - notes :]
    best, followers = 0, []
    # A run ends at j <= n - 2 (a note follows it), so it lies within seq[lo : n - 1].
    i = seq.find(tail, max(0, n - 1 - horizon - notes + 1), n - 1)
    while i >= 0:
        j = i + notes - 1
        run = notes
        while measure and run < LONGEST and run <= j and seq[j - run] == seq[n - 1 - run]:
            run += 1
        best = max(best, run)
        followers.append(seq[j + 1])
        i = seq.find(tail, i + 1, n - 1)
    return best, followers
