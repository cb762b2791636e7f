"""The studio page's app in-process (Starlette's TestClient): the page, its guards, the
recordings, the broker side against a real Mosquitto, and the command's one-line errors.

A session answering controls is in tests/test_web_browser.py (real JACK, real broker,
real Chromium).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from starlette.testclient import TestClient

from improviser.bench.browser import start_page_server, stop_process
from improviser.config import Config, with_overrides
from improviser.config.mqtt import MqttConfig
from improviser.errors import ConfigError
from improviser.music.midi_write import write_midi
from improviser.music.notes import Note
from improviser.web import WebSettings, create_app, settings_of
from improviser.web.app import control_schemas
from improviser.web.hub import Hub
from improviser.web.serve import bind
from tests.mosquitto import Broker, free_port, require_mosquitto

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "a-token-of-twenty-four-c"
HERE = "http://127.0.0.1:8765"


def settings(tmp_path: Path, **options: object) -> WebSettings:
    values: dict[str, object] = {
        "mqtt": MqttConfig(host="127.0.0.1", port=1, reconnect_min=0.05, reconnect_max=0.2),
        "token": TOKEN,
        "token_in_page": True,
        "sessions_dir": tmp_path,
        "loopback": True,
        **options,
    }
    return WebSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The app bound (as it were) to loopback; its hub is not started (no broker)."""
    yield TestClient(create_app(settings(tmp_path)), base_url=HERE)


def post(client: TestClient, path: str, value: object, **headers: str) -> tuple[int, str]:
    response = client.post(path, content=json.dumps(value), headers=headers)
    return response.status_code, response.json()["message"]


def test_the_page_carries_its_token_on_loopback_and_forbids_framing(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert f'name="improviser-token" content="{TOKEN}"' in page.text
    assert 'name="improviser-token-needed" content="false"' in page.text
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in page.headers
    for asset in ("app.js", "roll.js", "style.css"):
        assert client.get(f"/static/{asset}").status_code == 200


def test_a_foreign_host_name_is_refused_on_loopback(client: TestClient) -> None:
    """A DNS-rebinding site reaches 127.0.0.1 under its own name: it gets nothing."""
    assert client.get("/", headers={"host": "evil.example:8765"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"content-type": "application/json"}, "needs the token"),
        ({"content-type": "application/json", "x-improviser-token": "guess"}, "wrong token"),
        ({"content-type": "text/plain", "x-improviser-token": TOKEN}, "application/json"),
        (
            {"content-type": "application/json", "x-improviser-token": TOKEN,
             "origin": "http://evil.example"},
            "another site",
        ),
        (
            {"content-type": "application/json", "x-improviser-token": TOKEN,
             "sec-fetch-site": "cross-site"},
            "another site",
        ),
    ],
)  # fmt: skip
def test_a_change_needs_the_token_json_and_this_site(
    client: TestClient, headers: dict[str, str], message: str
) -> None:
    status, said = post(client, "/api/instances/room/set/temperature", 0.5, **headers)
    assert status == 403 and message in said
    status, said = post(client, "/api/token", {}, **headers)
    assert status == 403 and message in said


def test_no_cross_site_preflight_is_answered(client: TestClient) -> None:
    response = client.options(
        "/api/instances/room/set/temperature",
        headers={"origin": "http://evil.example", "access-control-request-method": "POST",
                 "access-control-request-headers": "x-improviser-token"},
    )  # fmt: skip
    assert response.status_code == 405
    assert not any(h.startswith("access-control-") for h in response.headers)


def test_the_right_token_passes_and_a_wrong_key_or_instance_is_named(
    client: TestClient,
) -> None:
    good = {"content-type": "application/json", "x-improviser-token": TOKEN, "origin": HERE}
    assert post(client, "/api/token", {}, **good) == (200, "token accepted")
    status, said = post(client, "/api/instances/room/set/volume", 3, **good)
    assert status == 404 and "no control 'volume'" in said and "temperature" in said
    status, _ = post(client, "/api/instances/r%23oom/set/temperature", 0.5, **good)
    assert status == 404
    bad_json = client.post("/api/instances/room/set/temperature", content=b"hot", headers=good)
    assert bad_json.status_code == 400


def test_a_broker_that_is_not_there_is_one_line(client: TestClient) -> None:
    good = {"content-type": "application/json", "x-improviser-token": TOKEN}
    status, said = post(client, "/api/instances/room/set/temperature", 0.5, **good)
    assert status == 502 and said.startswith("mqtt broker 127.0.0.1:1")


def test_the_controls_are_those_of_the_schema(client: TestClient) -> None:
    got = client.get("/api/controls").json()["controls"]
    assert got == control_schemas()
    assert {"temperature", "mute", "mode", "panic", "record"} <= set(got)
    assert got["temperature"]["type"] == "number" and got["mute"]["type"] == "boolean"


def test_off_loopback_needs_a_token_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a token"):
        settings_of(with_overrides(Config(), web={"host": "0.0.0.0"}))
    short = tmp_path / "short"
    short.write_text("abc\n")
    with pytest.raises(ConfigError, match="at least 16 characters"):
        settings_of(with_overrides(Config(), web={"host": "0.0.0.0", "token_file": short}))
    good = tmp_path / "token"
    good.write_text(TOKEN + "\n")
    cfg = with_overrides(Config(), web={"host": "0.0.0.0", "token_file": good})
    made = settings_of(cfg)
    assert made.token == TOKEN and not made.token_in_page and not made.loopback
    page = TestClient(create_app(made), base_url="http://studio.local:8765").get("/")
    assert page.status_code == 200 and TOKEN not in page.text
    assert 'name="improviser-token-needed" content="true"' in page.text


def _recording(folder: Path, name: str) -> Path:
    player = [Note(60 + i, 90, i * 0.5, 0.4) for i in range(4)]
    answer = [Note(67 - i, 80, 2.5 + i * 0.5, 0.4) for i in range(3)]
    path = folder / name
    write_midi(path, [player, answer], bpm=120.0, time_unit="seconds",
               names=["player", "improviser"])  # fmt: skip
    return path


def test_recordings_list_roll_download_and_audio(client: TestClient, tmp_path: Path) -> None:
    take = _recording(tmp_path, "session-1.mid")
    _recording(tmp_path, "session-2.mid")
    (tmp_path / "session-2.wav").write_bytes(b"RIFF....WAVE")
    (tmp_path / "notes.txt").write_text("not a recording")
    listed = client.get("/api/sessions").json()
    rows = {row["name"]: row for row in listed["sessions"]}
    assert set(rows) == {"session-1.mid", "session-2.mid"}
    assert rows["session-2.mid"]["audio"] == "wav" and rows["session-1.mid"]["audio"] is None
    roll = client.get("/api/sessions/session-1.mid/roll").json()
    assert [n[0] for n in roll["parts"]["player"]] == [60, 61, 62, 63]
    assert [n[0] for n in roll["parts"]["improviser"]] == [67, 66, 65]
    assert roll["bpm"] == pytest.approx(120.0) and roll["beats_per_bar"] == 4
    [answer] = roll["answers"]
    assert answer["start"] == pytest.approx(2.5, abs=0.01)
    assert answer["phrase_end"] == pytest.approx(1.9, abs=0.01)
    midi = client.get("/api/sessions/session-1.mid/midi")
    assert midi.content == take.read_bytes() and "attachment" in midi.headers["content-disposition"]
    audio = client.get("/api/sessions/session-2.mid/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert client.get("/api/sessions/session-1.mid/audio").status_code == 404


@pytest.mark.parametrize(
    "name", ["..%2Fsecret.mid", ".hidden.mid", "sub%2Fx.mid", "absent.mid", "notes.txt"]
)
def test_only_a_recording_in_the_folder_is_served(
    client: TestClient, tmp_path: Path, name: str
) -> None:
    (tmp_path.parent / "secret.mid").write_bytes(b"MThd")
    (tmp_path / ".hidden.mid").write_bytes(b"MThd")
    (tmp_path / "notes.txt").write_text("x")
    for what in ("roll", "midi", "audio"):
        assert client.get(f"/api/sessions/{name}/{what}").status_code == 404


def test_a_damaged_recording_is_one_line(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "broken.mid").write_bytes(b"MThd\x00\x00")
    response = client.get("/api/sessions/broken.mid/roll")
    assert response.status_code == 422 and "broken.mid" in response.json()["message"]


@pytest.mark.mqtt
async def test_the_hub_says_the_broker_is_down_and_comes_back(tmp_path: Path) -> None:
    require_mosquitto()
    port = free_port()
    mqtt = MqttConfig(host="127.0.0.1", port=port, reconnect_min=0.05, reconnect_max=0.2)
    hub = Hub(mqtt, None, notes_kept=3)
    pages = hub.updates()
    assert (await anext(pages))["type"] == "snapshot"

    async def next_broker_state() -> dict[str, object]:
        while True:
            update = await asyncio.wait_for(anext(pages), 15)
            if update["type"] == "broker":
                return update

    async with hub.running():
        down = await next_broker_state()
        assert down["connected"] is False and f"127.0.0.1:{port}" in str(down["problem"])
        broker = Broker(tmp_path, port)  # on the port the hub keeps trying
        broker.start()
        try:
            assert (await next_broker_state())["connected"] is True
            async with aiomqtt.Client("127.0.0.1", port) as sender:
                status = {"online": True, "instance": "room", "state": "listening",
                          "version": "0", "bpm": 100.0}  # fmt: skip
                await sender.publish("improviser/room/status", json.dumps(status), 1)
                await sender.publish("improviser/room/notes", b"not json", 1)
                for pitch in (60, 62, 64, 65):
                    note = {"part": "player", "at": 1.0, "channel": 1, "pitch": pitch,
                            "velocity": 90}  # fmt: skip
                    await sender.publish("improviser/room/notes", json.dumps(note), 1)
                seen: list[dict[str, object]] = []
                while len([u for u in seen if u["type"] == "notes"]) < 4:
                    seen.append(await asyncio.wait_for(anext(pages), 15))
            first = dict(seen[0])
            assert isinstance(first.pop("received"), float)  # the server's stamp, epoch ms
            assert first == {"type": "status", "instance": "room", "data": status}
            snapshot = hub.snapshot()["instances"]["room"]
            assert [n["pitch"] for n in snapshot["notes"]] == [62, 64, 65]  # notes_kept=3
            assert snapshot["status"]["bpm"] == 100.0
        finally:
            broker.stop()
        assert (await next_broker_state())["connected"] is False
    await pages.aclose()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "improviser", *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False)  # fmt: skip


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match="already in use"):
            bind("127.0.0.1", port)
        out = _cli("web", "--port", str(port))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.splitlines()) == 1 and "already in use" in out.stderr


def test_serving_off_loopback_without_a_token_is_one_line_and_exit_2() -> None:
    out = _cli("web", "--host", "0.0.0.0", "--port", str(free_port()))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith("improviser: error: web: serving on 0.0.0.0")


def test_stopping_with_a_page_open_ends_its_stream_and_says_nothing(tmp_path: Path) -> None:
    """The event stream never ends by itself; a stop must end it, not cut it (traceback)."""
    proc, url = start_page_server("127.0.0.1:1", tmp_path)
    try:
        with urllib.request.urlopen(url + "api/stream", timeout=30) as stream:
            assert stream.readline() == b"retry: 1000\n"
            proc.send_signal(signal.SIGINT)
            stream.read()  # returns once the server ends the stream (a cut one raises)
        assert proc.wait(timeout=30) == 0  # a stop asked for is a clean exit, as live's
    finally:
        stop_process(proc)
    log = (tmp_path / "web.log").read_text()
    assert "Traceback" not in log and "studio page on" in log
