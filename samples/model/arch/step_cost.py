"""The per-note step of the bundled GRU against the LSTM it replaced, in one run.

The step's time depends only on the network's shape, so both are random weights of the
two bundled shapes (GRU 148 -> 74, LSTM 128 -> 64, embeddings 48 + 8 + 8 + 4), stepped in
the NumPy and the compiled engine, back to back and 5 ms apart (a player's spacing, with
colder caches), in interleaved rounds so that the machine's changing speed falls on both
alike:

    python samples/model/arch/step_cost.py > samples/model/arch/step-cost.json

Figures in docs/model.md ("To convergence").
"""

import json
import os

import numpy as np

from improviser.bench.latency import cpu_engines, melodic_tokens, time_steps
from improviser.inference.weights import random_weights

NETWORKS = {"GRU 148 → 74": ("gru", (148, 74)), "LSTM 128 → 64": ("lstm", (128, 64))}
ROUNDS, NOTES, SPACED = 10, 400, 40

tokens = melodic_tokens(NOTES)
engines = {
    (name, engine): step
    for name, (cell, units) in NETWORKS.items()
    for engine, step in cpu_engines(random_weights(units, embedding=17, cell=cell)).items()
}
times: dict[str, list[float]] = {}
for _ in range(ROUNDS):
    for (name, engine), model in engines.items():
        model.reset()
        times.setdefault(f"{name}, {engine}", []).extend(time_steps(model.step, tokens))
        model.reset()
        spaced = time_steps(model.step, tokens[:SPACED], warmup=2, gap_s=0.005)
        times.setdefault(f"{name}, {engine}, 5 ms apart", []).extend(spaced)
out: dict[str, object] = {
    row: {
        "p50_ms": float(np.percentile(t, 50)),
        "p99_ms": float(np.percentile(t, 99)),
        "notes": len(t),
    }
    for row, t in times.items()
}
out["loadavg_1min"] = os.getloadavg()[0]
print(json.dumps(out, indent=2))
