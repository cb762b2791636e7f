"""``improviser live --mqtt`` as a process: last will on kill -9; ``set`` and ``watch``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from improviser.harness.player import VirtualPlayer
from tests.mosquitto import Broker, broker_at
from tests.mqtt_watch import watching
from tests.test_live_process import model_path, start_live, stop, wait_ready  # noqa: F401

pytestmark = [pytest.mark.jack, pytest.mark.mqtt]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with broker_at(tmp_path / "mosquitto") as running:
        yield running


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "improviser", *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False)  # fmt: skip


async def test_kill_9_leaves_offline_and_set_watch_work(
    broker: Broker,
    player: VirtualPlayer,
    model_path: Path,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    where = f"127.0.0.1:{broker.port}"
    proc = start_live(tmp_path, model_path, "--mqtt", where, "--mqtt-instance", "k9")
    try:
        async with watching(broker.port, "improviser/k9/status") as (seen, _):
            await asyncio.to_thread(wait_ready, proc)
            await seen.wait(lambda: (seen.last("improviser/k9/status") or {}).get("online"))
            good = await asyncio.to_thread(cli, "set", "k9", "temperature", "0.5", "--mqtt", where)
            assert good.returncode == 0 and "temperature = 0.5" in good.stdout, good.stderr
            bad = await asyncio.to_thread(cli, "set", "k9", "temperature", "hot", "--mqtt", where)
            assert bad.returncode == 2 and "Traceback" not in bad.stderr
            assert "control 'temperature'" in bad.stderr and len(bad.stderr.splitlines()) == 1
            view = await asyncio.to_thread(cli, "watch", "--mqtt", where, "--instance", "k9",
                                           "--seconds", "1.5")  # fmt: skip
            assert view.returncode == 0 and "k9" in view.stdout and "temperature=0.5" in view.stdout
            proc.kill()  # SIGKILL: the broker publishes the last will
            await seen.wait(lambda: seen.last("improviser/k9/status")["online"] is False)
            assert seen.last("improviser/k9/status")["state"] == "offline"
    finally:
        stop(proc)


def test_set_without_a_broker_is_one_line_and_exit_2() -> None:
    out = cli("set", "nobody", "mute", "true", "--mqtt", "127.0.0.1:1")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith("improviser: error: mqtt broker 127.0.0.1:1")
