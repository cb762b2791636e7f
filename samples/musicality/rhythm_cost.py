"""Per-note cost of the call's rhythm on the answer path: the tilt alone (before), with the
rhythm memory, and with the memory and the pace guard (the defaults), each an
:class:`~improviser.inference.answer.AnswerDraw` step's ``CallRhythm.condition`` on a
padded prediction plus ``Pace.played``, interleaved, in CPU time (the machine is shared).

    python samples/musicality/rhythm_cost.py > samples/musicality/rhythm-cost.json

Figures in docs/musicality.md ("Note values").
"""

import json
import os
import time

import numpy as np

from improviser.music.encoding import IOI_BEATS, Token
from improviser.music.rhythm import CallRhythm

E, Q = IOI_BEATS.index(0.5), IOI_BEATS.index(1.0)
CALL = [Token(60 + i % 5, ioi, 5, 4) for i, ioi in enumerate([Q] + [E, E, Q] * 5)]
ARMS = {
    "tilt (before)": (0.0, 1.0),
    "tilt + memory 0.5": (0.5, 1.0),
    "tilt + memory 0.5 + guard 0.2 (default)": (0.5, 0.2),
}
ROUNDS, ANSWERS, NOTES = 10, 50, 32

rng = np.random.default_rng(0)
padded = np.zeros((4, 128))
padded[0] = 1 / 128
padded[1, :17] = rng.dirichlet(np.ones(17))
padded[2, :16] = rng.dirichlet(np.ones(16))
padded[3, :8] = 1 / 8
times: dict[str, list[int]] = {name: [] for name in ARMS}
for _ in range(ROUNDS):
    for name, (memory, guard) in ARMS.items():
        rhythm = CallRhythm.from_tokens(CALL, 1.0, None, memory, guard)
        for _ in range(ANSWERS):
            pace = rhythm.pace()
            for i in range(NOTES):
                t0 = time.process_time_ns()
                rhythm.condition(padded, pace)
                if pace is not None:
                    pace.played(Q if i % 3 == 2 else E)
                times[name].append(time.process_time_ns() - t0)
out: dict[str, object] = {
    name: {
        "p50_us": float(np.percentile(t, 50)) / 1e3,
        "p99_us": float(np.percentile(t, 99)) / 1e3,
        "mean_us": float(np.mean(t)) / 1e3,
        "notes": len(t),
    }
    for name, t in times.items()
}
out["loadavg_1min"] = os.getloadavg()[0]
print(json.dumps(out, indent=2))
