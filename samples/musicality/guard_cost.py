"""Per-draw cost of the replay guard: the live draw (native engine, listener, sampler) with
the guard on (the default) and off, interleaved, in CPU time (the machine is shared).

    python samples/musicality/guard_cost.py replay   # the answer replays the call: a ban
    python samples/musicality/guard_cost.py new      # the answer goes its own way: a search

Figures in docs/musicality.md.
"""

import sys
import time

import numpy as np

from improviser.config import LiveConfig
from improviser.inference import NativeEngine
from improviser.inference.context import ModelContext
from improviser.music.encoding import Token
from improviser.music.listener import Listener, ListenParams
from improviser.music.sampling import Sampler, SamplingParams
from improviser.paths import DEFAULT_MODEL

rng = np.random.default_rng(0)
tune = [62, 64, 65, 67, 69, 65, 62, 61, 62, 57, 58, 60, 62, 65, 64, 62]


def context(guard: str) -> ModelContext:
    listener = Listener(ListenParams.from_config(LiveConfig(replay_guard=guard)))
    ctx = ModelContext(NativeEngine.from_file(DEFAULT_MODEL), 30, listener)
    for i in range(400):  # a session: the tune and variations
        p = tune[i % 16] + (2 if (i // 64) % 2 else 0)
        ctx.hear(Token(p, 6, 5, 5))
    listener.settle()
    return ctx


ctxs = {g: context(g) for g in ("penalty", "off")}
sampler = Sampler(SamplingParams.from_config(LiveConfig().sampling))
REPLAY = len(sys.argv) > 1 and sys.argv[1] == "replay"
times: dict[str, list[float]] = {g: [] for g in ctxs}
for _ in range(30):
    for g, ctx in ctxs.items():
        heard = ctx.snapshot()
        for k in range(6):  # an answer: replaying the tune's opening (the guard bans the
            # next note) or its own line (no run found: only the search is paid)
            ctx.predict(Token(tune[k] if REPLAY else [60, 67, 59, 66, 57, 70][k], 6, 5, 5))
        t0 = time.process_time()
        for _ in range(200):
            ctx.draw(sampler, rng)
        times[g].append((time.process_time() - t0) / 200)
        ctx.take_back(heard)
for g, t in times.items():
    print(
        f"guard {g:8s}: draw p50 {np.median(t) * 1e6:6.1f} us, "
        f"min {np.min(t) * 1e6:6.1f} us (CPU time, 30 x 200 draws)"
    )
# Where the time goes: the listener's shaping alone, and the C draw of a prepared prediction
for g, ctx in ctxs.items():
    heard = ctx.snapshot()
    for k in range(6):
        ctx.predict(Token(tune[k] if REPLAY else [60, 67, 59, 66, 57, 70][k], 6, 5, 5))
    lst = ctx.listener
    ts = []
    for _ in range(30):
        t0 = time.process_time()
        for _ in range(500):
            lst.shaping()
        ts.append((time.process_time() - t0) / 500)
    print(f"guard {g:8s}: shaping p50 {np.median(ts) * 1e6:6.1f} us min {np.min(ts) * 1e6:6.1f}")
    ctx.take_back(heard)
