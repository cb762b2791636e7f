"""Running as a systemd service: readiness and watchdog (``Type=notify``, ``WatchdogSec``).

Outside systemd (no ``NOTIFY_SOCKET``) every call here does nothing.
"""

from __future__ import annotations

import asyncio
import os

import sdnotify

from improviser.live.session.session import LiveSession

__all__ = ["notify_ready", "notify_stopping", "watchdog"]


def _notify(state: str) -> None:
    """Send ``state`` to systemd, if we run under it (a socket per message, closed at once)."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return
    notifier = sdnotify.SystemdNotifier()
    try:
        notifier.notify(state)
    finally:
        notifier.socket.close()


def notify_ready(status: str) -> None:
    """Tell systemd the session is playing (``READY=1``) with a one-line status."""
    _notify(f"READY=1\nSTATUS={status}")


def notify_stopping() -> None:
    """Tell systemd the session is stopping."""
    _notify("STOPPING=1")


async def watchdog(session: LiveSession) -> None:
    """Ping systemd's watchdog at half its period from the session's own loop (a companion).

    A loop stuck for longer than ``WatchdogSec`` stops the pings and systemd restarts us.
    """
    del session
    usec = os.environ.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return
    period = int(usec) / 2e6
    while True:
        _notify("WATCHDOG=1")
        await asyncio.sleep(period)
