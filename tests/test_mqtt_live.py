"""The MQTT bridge of a live session, against a real Mosquitto and a real JACK server.

Each test runs sessions in this process, played by the virtual player, with the bridge
as their companion; a separate MQTT client watches every topic and checks each payload
against its checked-in JSON Schema. Waits are for messages or states, with generous
timeouts; nothing asserts on timing.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from improviser.config.mqtt import MqttConfig
from improviser.harness.player import VirtualPlayer
from improviser.inference import random_weights, write_weights
from improviser.live.session.session import LiveSession
from improviser.telemetry.bridge import MqttBridge
from tests.mosquitto import Broker, broker_at, make_ca, password_broker_extra
from tests.mqtt_watch import Seen, watching
from tests.test_live_jack import config, model, phrase, wait_for

pytestmark = [pytest.mark.jack, pytest.mark.mqtt]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with broker_at(tmp_path_factory.mktemp("mosquitto")) as running:
        yield running


def mqtt(port: int, instance: str, **options: Any) -> MqttConfig:
    base: dict[str, Any] = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": port,
        "instance": instance,
        "reconnect_min": 0.05,
        "reconnect_max": 0.5,
    }
    return MqttConfig(**{**base, **options})


def online(seen: Seen, instance: str) -> bool:
    status = seen.last(f"improviser/{instance}/status")
    return bool(status and status["online"])


async def ask(seen: Seen, client: Any, instance: str, key: str, value: Any) -> tuple[str, Any]:
    """Send one control (a JSON value, or raw bytes); the reply's topic kind and payload."""
    base = f"improviser/{instance}"
    before = len(seen.messages)
    payload = value if isinstance(value, bytes) else json.dumps(value)
    await client.publish(f"{base}/set/{key}", payload, 1)

    def reply() -> tuple[str, Any] | None:
        for topic, data in seen.messages[before:]:
            if topic in (f"{base}/ack", f"{base}/error") and data["key"] == key:
                return topic.rsplit("/", 1)[1], data
        return None

    await seen.wait(reply)
    found = reply()
    assert found is not None
    return found


ROUND_TRIPS: list[tuple[str, Any]] = [
    ("temperature", 0.6), ("top_p", 0.9), ("top_k", 5), ("mode", "follow"),
    ("mode", "call-response"), ("answer_length", "notes"), ("answer_notes", 4),
    ("answer_beats", 4.0), ("phrase_gap", 0.3), ("mute", True), ("mute", False),
    ("loop", False), ("panic", {}), ("end_call", True), ("regenerate", None),
]  # fmt: skip
BAD: list[tuple[str, Any, str]] = [
    ("temperature", "0.7", "temperature"), ("temperature", 11.0, "temperature"),
    ("top_p", True, "top_p"), ("mode", "jazz", "mode"), ("mute", 1, "mute"),
    ("volume", 3, "unknown control"), ("temperature", b"0.7 degrees", "not JSON"),
    ("temperature", b"1" * 1_000_000, "over the limit"),
    ("record", {"action": "start", "file": "../escape.mid"}, "plain file name"),
    ("record", {"action": "rotate", "file": "../../etc/x"}, "plain file name"),
    ("record", {"action": "rotate", "file": "/tmp/abs"}, "plain file name"),
    ("record", "pause", "record"),
    ("model", "../../etc/passwd", "plain file name"), ("model", "sub/other", "plain file name"),
    ("model", "absent", "no model"),
]  # fmt: skip


async def test_status_every_control_notes_and_bad_payloads(
    broker: Broker, player: VirtualPlayer, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    write_weights(random_weights(seed=9), models / "other.npz")
    cfg = config(tmp_path, models_dir=models, sessions_dir=tmp_path / "takes")
    bridge = MqttBridge(mqtt(broker.port, "room-a", notes=True, notes_per_second=10_000))
    async with watching(broker.port) as (seen, client):
        async with LiveSession(cfg, model=model(), companions={"improviser.mqtt": bridge}) as s:
            engine = s.engine
            assert engine is not None
            await seen.wait(lambda: online(seen, "room-a"))
            status = "improviser/room-a/status"
            assert seen.last(status)["sync"] == ("fixed" if cfg.bpm else "player")
            assert seen.last(status)["bpm"] == pytest.approx(cfg.bpm or 100.0, rel=0.5)
            for key, value in ROUND_TRIPS:
                kind, reply = await ask(seen, client, "room-a", key, value)
                assert kind == "ack", reply
                if key not in ("panic", "end_call", "regenerate"):
                    assert reply["value"] == value
                    await seen.wait(lambda k=key, v=value: seen.last(status)["settings"][k] == v)
            before = engine.config.model_dump()
            for key, value, message in BAD:
                kind, reply = await ask(seen, client, "room-a", key, value)
                assert kind == "error" and message in reply["message"], (key, reply)
            assert engine.config.model_dump() == before
            assert not (tmp_path / "escape.mid").exists()

            await player.play(phrase([60, 62, 64, 65]))
            await wait_for(lambda: s.stats.answers >= 1 and engine.status == "listening")
            kind, reply = await ask(seen, client, "room-a", "model", "other")
            assert kind == "ack" and reply["value"] == "other.keras"
            await seen.wait(lambda: seen.last("improviser/room-a/status")["model"] == "other.keras")
            rotate = {"action": "rotate", "file": "second"}
            kind, reply = await ask(seen, client, "room-a", "record", rotate)
            assert kind == "ack" and reply["value"].endswith("second.mid")
            await player.play(phrase([67, 65, 64]))
            await wait_for(lambda: s.stats.answers >= 2 and engine.status == "listening")
            kind, _ = await ask(seen, client, "room-a", "record", "stop")
            assert kind == "ack" and s.recorder is None
        await seen.wait(lambda: not online(seen, "room-a"))  # the goodbye
    notes = seen.of("improviser/room-a/notes")
    assert {n["part"] for n in notes} == {"player", "improviser"}
    assert sum(1 for n in notes if n["part"] == "player" and n["velocity"]) == 7
    kinds = [e["kind"] for e in seen.of("improviser/room-a/events")]
    assert {"phrase_ended", "answer_started", "model_loaded", "recording_rotated"} <= set(kinds)
    assert (tmp_path / "takes" / "second.mid").exists() and cfg.record_path.exists()  # type: ignore[union-attr]


async def test_three_instances_on_one_broker_keep_to_their_own(
    broker: Broker, jack_server: object, tmp_path: Path
) -> None:
    names = ("room-1", "room-2", "room-3")
    # Once hung in CI with the loop idle (not reproduced): a timeout of its own says where.
    async with (
        asyncio.timeout(120),
        watching(broker.port) as (seen, client),
        asyncio.TaskGroup() as group,
    ):
        sessions: dict[str, LiveSession] = {}
        stop = asyncio.Event()

        async def run(name: str) -> None:
            cfg = config(tmp_path, virtual=True, client_name=f"imp-{name}", record=False)
            bridge = MqttBridge(mqtt(broker.port, name))
            async with LiveSession(cfg, model=model(), companions={"m": bridge}) as session:
                sessions[name] = session
                await stop.wait()

        for name in names:
            group.create_task(run(name))
        await seen.wait(lambda: all(online(seen, n) for n in names))
        for i, name in enumerate(names):
            kind, _ = await ask(seen, client, name, "temperature", 0.3 + i / 10)
            assert kind == "ack"
        for i, name in enumerate(names):
            engine = sessions[name].engine
            assert engine is not None and engine.config.sampling.temperature == 0.3 + i / 10
            assert len(seen.of(f"improviser/{name}/ack")) == 1
        stop.set()


async def test_broker_killed_and_back_midi_plays_on_and_bridge_returns(
    player: VirtualPlayer, tmp_path: Path
) -> None:
    with broker_at(tmp_path / "broker") as broker:
        bridge = MqttBridge(mqtt(broker.port, "room-r"))
        cfg = config(tmp_path)
        async with LiveSession(cfg, model=model(), companions={"m": bridge}) as s:
            engine = s.engine
            assert engine is not None
            await asyncio.wait_for(bridge.online.wait(), 15)
            broker.kill()
            await wait_for(lambda: not bridge.online.is_set())
            await player.play(phrase([60, 62, 64, 65]))
            await wait_for(lambda: s.stats.answers >= 1 and engine.status == "listening")
            broker.start()  # no persistence: a status seen now was published again
            async with watching(broker.port) as (seen, _):
                await seen.wait(lambda: online(seen, "room-r"))
                assert bridge.messages is not None and bridge.messages.connects >= 2
    assert player.tracker.stuck() == []


async def test_wrong_password_is_a_clear_error_and_the_session_plays(
    player: VirtualPlayer, tmp_path: Path
) -> None:
    extra = password_broker_extra(tmp_path, "studio", "right-password")
    with broker_at(tmp_path / "broker", extra) as broker:
        wrong = MqttBridge(mqtt(broker.port, "room-w", username="studio"), password="nope")
        good = MqttBridge(mqtt(broker.port, "room-g", username="studio"), password="right-password")
        companions = {"improviser.mqtt": wrong, "improviser.mqtt.good": good}
        async with LiveSession(config(tmp_path), model=model(), companions=companions) as s:
            engine = s.engine
            assert engine is not None
            await wait_for(lambda: wrong.last_error is not None)
            await asyncio.wait_for(good.online.wait(), 15)
            await player.play(phrase([60, 62, 64]))
            await wait_for(lambda: s.stats.answers >= 1 and engine.status == "listening")
        assert wrong.last_error is not None and "refused us" in wrong.last_error
        assert "user 'studio'" in wrong.last_error and "nope" not in wrong.last_error
        assert not wrong.online.is_set()


# paho-mqtt leaves the socket of a failed TLS handshake to the garbage collector (it is
# closed there, with a ResourceWarning); not ours to fix, and only the refused case hits it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_tls_with_a_ca_made_here(jack_server: object, tmp_path: Path) -> None:
    ca, cert, key = make_ca(tmp_path)
    extra = f"allow_anonymous true\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
    with broker_at(tmp_path / "broker", extra) as broker:
        cfg = mqtt(broker.port, "room-t", tls=True, ca_file=ca)
        bridge = MqttBridge(cfg)
        session_cfg = config(tmp_path, virtual=True, client_name="imp-tls", record=False)
        tls = ssl.create_default_context(cafile=str(ca))
        async with (
            watching(broker.port, tls=tls) as (seen, client),
            LiveSession(session_cfg, model=model(), companions={"m": bridge}),
        ):
            await seen.wait(lambda: online(seen, "room-t"))
            kind, _ = await ask(seen, client, "room-t", "mute", True)
            assert kind == "ack"
        other_ca, _, _ = make_ca(tmp_path / "other")  # a CA that did not sign the broker's
        doubtful = MqttBridge(mqtt(broker.port, "room-x", tls=True, ca_file=other_ca))
        async with LiveSession(session_cfg, model=model(), companions={"m": doubtful}):
            await wait_for(lambda: doubtful.last_error is not None)
        assert not doubtful.online.is_set() and "certificate" in doubtful.last_error
