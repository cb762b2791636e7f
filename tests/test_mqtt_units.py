"""The MQTT face without a broker: schemas, payloads, config, names, control replies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from improviser.config import Config, with_overrides
from improviser.config.mqtt import MqttConfig, parse_broker, read_password
from improviser.errors import ConfigError, ControlError
from improviser.live.engine.safe_path import inside
from improviser.telemetry.connection import backoff, describe
from improviser.telemetry.control import take_control
from improviser.telemetry.payloads import ControlReply, NotePayload, StatsPayload
from improviser.telemetry.schemas import SCHEMA_DIR, schemas
from improviser.telemetry.topics import Topics, instance_of
from tests.fakes import FakeClock
from tests.test_live_units import make

SECRET = "s3cret-Pa55"


def validator(topic: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / f"{topic}.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def control_validator(key: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / "set.json").read_text())
    return jsonschema.Draft202012Validator({**schema, "$ref": f"#/$defs/{key}"})


def test_checked_in_schemas_are_the_code_s() -> None:
    generated = schemas()
    on_disk = {p.stem: json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk == generated, "run: python -m improviser.telemetry.schemas"


def test_payloads_validate_against_their_schemas() -> None:
    note = NotePayload(part="player", at=1.5, channel=1, pitch=60, velocity=90)
    validator("notes").validate(json.loads(note.encode()))
    reply = ControlReply(key="temperature", value=0.7, message="temperature = 0.7")
    validator("ack").validate(json.loads(reply.encode()))
    assert not validator("notes").is_valid({"part": "drums", "at": 0, "channel": 1,
                                            "pitch": 60, "velocity": 1})  # fmt: skip
    assert not validator("notes").is_valid({**json.loads(note.encode()), "pitch": 128})
    stats: dict[str, Any] = dict.fromkeys(StatsPayload.model_fields, 0)
    validator("stats").validate(stats)
    assert not validator("stats").is_valid({**stats, "extra": 1})


@pytest.mark.parametrize(
    ("key", "good", "bad"),
    [
        ("temperature", 0.7, "0.7"),
        ("top_p", 1, 1.5),
        ("mode", "follow", "jazz"),
        ("mute", True, 1),
        ("record", {"action": "rotate", "file": "b.mid"}, {"action": "pause"}),
        ("model", "other.keras", 3),
    ],
)
def test_control_schemas_accept_good_and_refuse_bad_values(key: str, good: Any, bad: Any) -> None:
    assert control_validator(key).is_valid(good)
    assert not control_validator(key).is_valid(bad)


def test_mqtt_is_off_by_default_and_broker_parsing() -> None:
    assert Config().mqtt.enabled is False
    assert parse_broker("studio") == ("studio", None)
    assert parse_broker("10.0.0.2:1884") == ("10.0.0.2", 1884)
    assert parse_broker("[::1]:8883") == ("::1", 8883)
    with pytest.raises(ConfigError, match="port must be"):
        parse_broker("host:99999")
    assert MqttConfig(tls=True).broker_port == 8883


@pytest.mark.parametrize("name", ["a/b", "+", "#", "", "x" * 65, "bad name"])
def test_instance_names_that_would_break_topics_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match=r"mqtt\.instance"):
        with_overrides(Config(), mqtt={"instance": name})


def test_password_from_env_or_file_never_in_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPROVISER_TEST_PW", SECRET)
    assert read_password(MqttConfig(password_env="IMPROVISER_TEST_PW")) == SECRET
    (tmp_path / "pw").write_text(SECRET + "\n")
    cfg = MqttConfig(username="u", password_file=tmp_path / "pw")
    assert read_password(cfg) == SECRET
    with pytest.raises(ConfigError, match="is not set"):
        read_password(MqttConfig(password_env="IMPROVISER_NO_SUCH_VAR"))
    with pytest.raises(ConfigError, match="cannot read"):
        read_password(MqttConfig(password_file=tmp_path / "absent"))

    class RefusedError(Exception):
        rc = 5

    line = describe(RefusedError(f"not authorised {SECRET}"[:14]), cfg)
    assert "refused us" in line and SECRET not in line and "\n" not in line
    assert "password" not in MqttConfig.model_fields  # there is no way to put it in config


def test_backoff_doubles_is_capped_and_jittered() -> None:
    waits = [backoff(n, 0.5, 30.0) for n in range(12)]
    assert all(0.25 <= waits[0] <= 0.5 for _ in range(1))
    assert all(w <= 30.0 for w in waits) and waits[-1] >= 15.0
    assert len({backoff(3, 0.5, 30.0) for _ in range(20)}) > 1


def test_topics_and_instances() -> None:
    topics = Topics("room-a")
    assert topics.status == "improviser/room-a/status"
    assert topics.control_key("improviser/room-a/set/temperature") == "temperature"
    assert topics.control_key("improviser/room-b/set/temperature") is None
    assert topics.control_key("improviser/room-a/set/a/b") is None
    assert instance_of("improviser/room-b/stats") == "room-b"


@pytest.mark.parametrize(
    "name",
    ["../escape", "../../etc/passwd", "/etc/passwd", "sub/take", ".hidden", "a\\b", "..",
     "take\x00.mid", "x" * 200, "", 3, None],
)  # fmt: skip
def test_names_outside_the_folder_are_refused(tmp_path: Path, name: object) -> None:
    with pytest.raises(ControlError, match="'record'"):
        inside(tmp_path, name, ".mid", "record")


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside" / "out.mid").symlink_to(tmp_path / "elsewhere.mid")
    with pytest.raises(ControlError, match="outside"):
        inside(tmp_path / "inside", "out.mid", ".mid", "record")
    assert inside(tmp_path, "take 2", ".mid", "record") == tmp_path.resolve() / "take 2.mid"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'"hot"', "control 'temperature'"),
        (b"-1", "control 'temperature'"),
        (b"0.7x", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[" * 60_000, "not JSON"),
        (b"1" * 1_000_000, "over the limit"),
    ],
)
def test_bad_payloads_are_answered_and_change_nothing(payload: bytes, message: str) -> None:
    clock = FakeClock()
    engine, *_ = make(clock)
    before = engine.config.model_dump()
    done, reply = take_control(engine.controls, "temperature", payload, limit=65536, at=clock())
    assert not done and message in reply.message and "\n" not in reply.message
    assert len(reply.encode()) < 1000
    assert engine.config.model_dump() == before
    done, reply = take_control(engine.controls, "temperature", b"0.5", limit=65536, at=clock())
    assert done and reply.value == 0.5 and engine.params.temperature == 0.5


def test_the_example_studio_config_loads() -> None:
    from improviser.config import load_config
    from improviser.paths import DEFAULT_CONFIG

    studio = load_config(DEFAULT_CONFIG.parent / "studio.toml")
    assert studio.mqtt.enabled and studio.mqtt.tls and studio.mqtt.instance == "room-a"
    assert studio.mqtt.password_file is not None and studio.live.models_dir is not None
    unit = (DEFAULT_CONFIG.parent / "improviser.service").read_text()
    assert "Type=notify" in unit and "Restart=on-failure" in unit and "WatchdogSec=" in unit


def test_stats_payload_has_every_session_counter() -> None:
    from improviser.live.session.stats import SessionStats

    session_keys = {*SessionStats().summary(), "queue_depth", "events_dropped", "uptime_s"}
    assert session_keys <= set(StatsPayload.model_fields)
