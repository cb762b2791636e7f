"""The studio page in a real browser, against a real session.

``improviser live`` (its own process) plays through a private JACK server and publishes
on a real Mosquitto; ``improviser web`` (its own process) serves the page; Debian's
Chromium, headless and driven by Selenium, opens it. The player's notes go in through
JACK and are looked for on the page's piano roll; the controls are worked with the
keyboard alone, and what the session says back (ack, error, status) is looked for on the
page. How long a note takes to reach the roll is measured by ``improviser bench web``,
not asserted here. Screenshots go to the test's folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from improviser.bench.browser import chromium, start_page_server, stop_process
from improviser.harness.player import VirtualPlayer
from improviser.inference import random_weights, write_weights
from improviser.music.notes import Note
from tests.mosquitto import Broker, broker_at

pytestmark = [pytest.mark.jack, pytest.mark.mqtt]
ROOT = Path(__file__).resolve().parent.parent
INSTANCE = "studio-a"
TOKEN = "a-studio-token-of-some-length"
WAIT = 20.0
NEEDS = "refused: this page needs the token (web.token_file) to change anything"


def require_chromium() -> None:
    """Skip (or, in CI, fail) when Debian's chromium and chromium-driver are missing."""
    if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed, and CI must run these")
        pytest.skip("chromium and chromium-driver are not installed")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with broker_at(tmp_path / "mosquitto") as running:
        yield running


@pytest.fixture
def session(broker: Broker, player: VirtualPlayer, tmp_path: Path) -> Iterator[Path]:
    """``improviser live`` with MQTT (notes on); the folder it records to."""
    takes = tmp_path / "takes"
    takes.mkdir()
    model = tmp_path / "tiny.npz"
    write_weights(random_weights(seed=2), model)
    conf = tmp_path / "live.toml"
    conf.write_text(
        '[live]\nbpm = 120.0\nphrase_gap = 0.3\nanswer_length = "notes"\nanswer_notes = 6\n'
        "flush_seconds = 0.2\n[live.sampling]\nseed = 1\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "improviser", "live", "--api", "jack", "--in", "demo-keys",
         "--out", "demo-synth", "--model", str(model), "--config", str(conf),
         "--record", str(takes / "take.mid"), "--mqtt", f"127.0.0.1:{broker.port}",
         "--mqtt-instance", INSTANCE, "--mqtt-notes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        said = []
        for line in proc.stderr:
            said.append(line)
            if "listening on" in line:
                break
        else:
            raise AssertionError(f"live exited ({proc.wait()}): {''.join(said)[-800:]}")
        yield takes
    finally:
        stop_process(proc)
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.fixture
def page_server(broker: Broker, session: Path, tmp_path: Path) -> Iterator[str]:
    """``improviser web`` on loopback (the token comes with the page)."""
    proc, url = start_page_server(f"127.0.0.1:{broker.port}", session)
    try:
        yield url
    finally:
        stop_process(proc)


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    require_chromium()
    with chromium(tmp_path / "chromium-profile") as browser:
        yield browser


def until(what: Callable[[], Any], limit: float = WAIT, why: str = "") -> Any:
    deadline = time.monotonic() + limit
    while True:
        got = what()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {limit} s: {why}")
        time.sleep(0.05)


def press_first(driver: Any, selector: str) -> bool:
    """Press Enter on the first element ``selector`` finds; ``False`` if there is none yet
    or the page rebuilt it between finding and pressing (a list that refreshes itself:
    the sessions table is drawn again when the folder's listing comes back)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.keys import Keys

    found = driver.find_elements("css selector", selector)
    if not found:
        return False
    try:
        found[0].send_keys(Keys.ENTER)
    except StaleElementReferenceException:
        return False
    return True


def status_of(driver: Any) -> dict[str, Any]:
    raw = driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e && e.dataset.status;",
        f"instance-{INSTANCE}",
    )
    return json.loads(raw) if raw else {}


def reply(driver: Any) -> tuple[str, str]:
    """The instance's reply line: (its kind: ack, error, pending; its text)."""
    line = driver.find_element("css selector", f"#instance-{INSTANCE} .reply")
    kind = (line.get_attribute("class") or "").replace("reply", "").strip()
    return kind, line.text


def drawn_player_notes(driver: Any, pitch: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = driver.execute_script(
        "return window.improviserDrawn"
        ".filter(d => d.part === 'player' && d.pitch === arguments[0]);",
        pitch,
    )
    return found


def open_page(driver: Any, url: str) -> None:
    driver.get(url)
    until(lambda: status_of(driver).get("online"), why="the instance online on the page")


def press(driver: Any, element_id: str, *keys: str) -> None:
    """Focus an element by the keyboard's Tab order's means (focus()) and press keys."""
    element = driver.find_element("id", element_id)
    driver.execute_script("arguments[0].focus();", element)
    element.send_keys(*keys)


def test_a_note_played_appears_and_the_controls_reach_the_session(
    driver: Any, page_server: str, player: VirtualPlayer, tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_page(driver, page_server)
    assert "connected" in driver.find_element("id", "broker").text
    facts = driver.find_element("css selector", f"#instance-{INSTANCE} .facts").text
    assert "120 bpm" in facts and "call-response" in facts
    # A note through JACK reaches the roll (the page stamps when it drew it). On a busy
    # machine JACK may drop a cycle's MIDI before the session sees it: then another note.
    for pitch in (64, 65, 66, 67, 68):
        sent = time.time() * 1000.0
        player.send([0x90, pitch, 100])
        try:
            drawn = until(lambda p=pitch: drawn_player_notes(driver, p), 5.0, "a note drawn")
        except AssertionError:
            continue
        finally:
            player.send([0x80, pitch, 0])
        print(f"note in -> drawn on the roll: {drawn[0]['drawn'] - sent:.1f} ms (one note)")
        break
    else:
        raise AssertionError("none of 5 notes played reached the roll")
    # A phrase, so the roll has an answer to show.
    asyncio.run(player.play([Note(p, 90, i * 0.2, 0.15) for i, p in enumerate([60, 62, 64, 67])]))
    until(lambda: driver.execute_script(
        "return window.improviserDrawn.some(d => d.part === 'improviser');"),
        why="the answer drawn")  # fmt: skip
    # The temperature slider, by the keyboard: its ack, and the status says the new value.
    before = status_of(driver)["settings"]["temperature"]
    press(driver, f"c-{INSTANCE}-temperature", Keys.ARROW_RIGHT)
    kind, text = until(lambda: reply(driver)[0] in ("ack", "error") and reply(driver))
    assert kind == "ack" and f"{INSTANCE}: temperature = " in text, text
    until(lambda: status_of(driver)["settings"]["temperature"] != before,
          why="the status shows the new temperature")  # fmt: skip
    now = status_of(driver)["settings"]["temperature"]
    assert now > before
    # A bad value typed: the session's own error, and nothing changed.
    press(driver, f"c-{INSTANCE}-temperature-n", Keys.CONTROL, "a")
    press(driver, f"c-{INSTANCE}-temperature-n", "50", Keys.ENTER)
    kind, text = until(lambda: reply(driver)[0] == "error" and reply(driver), why="the error")
    assert f"{INSTANCE}: control 'temperature'" in text, text
    assert status_of(driver)["settings"]["temperature"] == now
    # A switch and a choice, by the keyboard too.
    press(driver, f"c-{INSTANCE}-mute", Keys.SPACE)
    until(lambda: status_of(driver)["settings"]["mute"] is True, why="muted")
    # Every control is in the Tab order (the keyboard alone reaches each one).
    wanted = set(driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.id || e.textContent);",
        f"#instance-{INSTANCE} .controls input, #instance-{INSTANCE} .controls select, "
        f"#instance-{INSTANCE} .controls button",
    ))  # fmt: skip
    driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
    reached: set[str] = set()
    for _ in range(len(wanted) + 40):
        ActionChains(driver).send_keys(Keys.TAB).perform()  # to whatever has the focus
        reached.add(driver.execute_script(
            "const e = document.activeElement; return e.id || e.textContent;"))  # fmt: skip
    assert len(wanted) > 20 and wanted <= reached, sorted(wanted - reached)
    # The recording, its roll shown by the keyboard.
    driver.find_element("id", "sessions-refresh").send_keys(Keys.ENTER)
    until(lambda: press_first(driver, "#sessions-table button"), why="a recording's Show")
    caption = driver.find_element("id", "session-caption")
    until(lambda: "take.mid:" in caption.text and "player notes" in caption.text)
    driver.save_screenshot(str(tmp_path / "web-live.png"))
    print(f"screenshot: {tmp_path / 'web-live.png'}")
    # No script error all along (a refused request is logged by the browser as "network").
    errors = [e for e in driver.get_log("browser") if e["source"] != "network"]
    assert not [e for e in errors if e["level"] == "SEVERE"], errors


def test_without_the_token_nothing_changes_and_a_lost_broker_is_said(
    broker: Broker, session: Path, driver: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.keys import Keys

    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    proc, url = start_page_server(
        f"127.0.0.1:{broker.port}", session, "--token-file", str(token_file)
    )
    try:
        open_page(driver, url)
        assert driver.find_element("id", "token-form").is_displayed()
        before = status_of(driver)["settings"]["temperature"]
        press(driver, f"c-{INSTANCE}-temperature", Keys.ARROW_RIGHT)
        _, text = until(lambda: reply(driver)[0] == "error" and reply(driver))
        assert text == "temperature not changed: " + NEEDS
        press(driver, "token", "not-the-token", Keys.ENTER)
        until(lambda: "wrong token" in driver.find_element("id", "token-state").text)
        press(driver, f"c-{INSTANCE}-mute", Keys.SPACE)
        until(lambda: reply(driver)[1] == "mute not changed: " + NEEDS, why="mute refused")
        assert status_of(driver)["settings"]["temperature"] == before
        assert status_of(driver)["settings"]["mute"] is False
        driver.find_element("id", "token").clear()
        press(driver, "token", TOKEN, Keys.ENTER)
        until(lambda: "accepted" in driver.find_element("id", "token-state").text)
        press(driver, f"c-{INSTANCE}-temperature", Keys.ARROW_RIGHT)
        until(lambda: reply(driver)[0] == "ack", why="ack with the token")
        until(lambda: status_of(driver)["settings"]["temperature"] > before)
        # The broker goes away: the page says so, and comes back by itself.
        broker.kill()
        banner = driver.find_element("id", "broker")
        until(lambda: "unreachable" in banner.text, why="the page says the broker is gone")
        driver.save_screenshot(str(tmp_path / "web-broker-down.png"))
        broker.start()
        until(lambda: "connected" in banner.text, why="the page reconnected")
        until(lambda: status_of(driver).get("online"), why="the session is back on the page")
    finally:
        stop_process(proc)
