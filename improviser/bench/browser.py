"""The studio page in a real browser: Debian's Chromium, headless, driven by Selenium.

Shared by ``improviser bench web`` and the page's browser tests. Nothing is downloaded:
the browser and its driver are Debian's (``chromium``, ``chromium-driver``), found on the
PATH, and Selenium's own driver manager is kept offline. ``improviser web`` runs as its
own process (:func:`start_page_server`), as it does in a studio.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "CHROMIUM_FLAGS",
    "BrowserMissingError",
    "browser_clock_offset_ms",
    "chromium",
    "free_port",
    "start_page_server",
    "stop_process",
]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1500",
)
START_SECONDS = 30.0


class BrowserMissingError(RuntimeError):
    """Chromium or its driver is not installed."""


def _which(*names: str) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


@contextlib.contextmanager
def chromium(user_data_dir: Path) -> Iterator[Any]:
    """A headless Chromium with a fresh profile in ``user_data_dir``; quit on leaving."""
    browser = _which("chromium", "chromium-browser")
    driver_path = _which("chromedriver")
    if browser is None or driver_path is None:
        raise BrowserMissingError(
            "chromium and chromedriver are needed (Debian: apt-get install chromium "
            "chromium-driver; or make system-deps)"
        )
    os.environ["SE_OFFLINE"] = "true"  # Selenium's manager must not fetch anything
    from selenium import webdriver  # noqa: PLC0415 - a dev/bench dependency only
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_page_server(
    broker: str, folder: Path, *extra: str, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``improviser web`` on loopback for ``broker`` (HOST:PORT); the process and its URL.

    Returns once the page answers; its output goes to ``folder/web.log``.
    """
    port = port or free_port()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    log = (folder / "web.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "improviser", "web", "--mqtt", broker, "--port", str(port),
         "--sessions", str(folder), *extra],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder,
    )  # fmt: skip
    log.close()
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1.0):
                return proc, url
        except (urllib.error.URLError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_process(proc)
                text = (folder / "web.log").read_text(errors="replace")
                raise RuntimeError(f"improviser web did not start: {text[-500:]}") from None
            time.sleep(0.1)


def stop_process(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; by this process's PID only."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def browser_clock_offset_ms(driver: Any, tries: int = 25) -> tuple[float, float]:
    """The browser's epoch clock minus ours (ms), and its uncertainty (half a round trip).

    The page stamps what it draws with ``performance.timeOrigin + performance.now()``. A
    WebDriver round trip takes milliseconds on a busy machine, so the quickest of
    ``tries`` is kept.
    """
    best: tuple[float, float] | None = None
    for _ in range(tries):
        before = time.time() * 1000.0
        theirs = float(driver.execute_script("return performance.timeOrigin + performance.now();"))
        after = time.time() * 1000.0
        sample = (theirs - (before + after) / 2.0, (after - before) / 2.0)
        if best is None or sample[1] < best[1]:
            best = sample
    assert best is not None
    return best
