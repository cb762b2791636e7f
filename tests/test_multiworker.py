"""A corpus too big for one machine trains unchanged on several: two local workers under
``MultiWorkerMirroredStrategy`` on loopback (``TF_CONFIG``), the ordinary ``train`` CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest

from tests.model_fixtures import tiny_config
from tests.synth import write_corpus

pytestmark = pytest.mark.slow
WORKERS = 2
TIMEOUT_S = 150


def _free_ports(count: int) -> list[int]:
    """Ports free now on loopback (held open together, so they are distinct)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def _start(
    index: int, ports: list[int], corpus: Path, cfg: Path, out: Path
) -> subprocess.Popen[str]:
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    env = {
        **os.environ,
        "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
        "CUDA_VISIBLE_DEVICES": "",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    command = [sys.executable, "-m", "improviser", "train", str(corpus)]
    command += ["--out", str(out), "--config", str(cfg)]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _run_workers(tmp_path: Path, corpus: Path, cfg: Path) -> list[Path]:
    ports = _free_ports(WORKERS)
    outs = [tmp_path / f"worker{i}" / "tiny.keras" for i in range(WORKERS)]
    procs = [_start(i, ports, corpus, cfg, out) for i, out in enumerate(outs)]
    try:
        logs = [p.communicate(timeout=TIMEOUT_S)[0] for p in procs]
    finally:
        for p in procs:  # a worker left waiting for its peer must not outlive the test
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, log in zip(procs, logs, strict=True):
        assert p.returncode == 0, log[-3000:]
    return outs


def test_a_tiny_model_trains_unchanged_on_two_workers(tmp_path: Path) -> None:
    import tomli_w

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 16, 48)
    config = tiny_config(epochs=2, strategy="multi-worker", checkpoint_every=1)
    config.model.lstm_units = [16]
    cfg = tmp_path / "multi.toml"
    cfg.write_bytes(tomli_w.dumps(config.model_dump(mode="json", exclude_none=True)).encode())
    outs = _run_workers(tmp_path, corpus, cfg)
    metas = [json.loads(out.with_suffix(".json").read_text()) for out in outs]
    for meta in metas:
        assert meta["strategy"] == "CollectiveAllReduceStrategy"  # MultiWorkerMirroredStrategy
        assert meta["replicas"] == WORKERS
        assert meta["training"]["epochs"] == 2
    # Synchronous all-reduce: both workers end with the same weights.
    first, second = (np.load(out.with_suffix(".npz")) for out in outs)
    assert sorted(first.files) == sorted(second.files)
    for name in first.files:
        np.testing.assert_allclose(first[name], second[name], rtol=1e-5, atol=1e-6)
