"""A control message from the broker -> the one control entry point -> ``ack`` or ``error``."""

from __future__ import annotations

import json
import logging

from improviser.errors import ImproviserError
from improviser.live.engine.controls import Controls
from improviser.telemetry.payloads import ControlReply

__all__ = ["SHOWN_CHARS", "take_control"]

SHOWN_CHARS = 64
"""How much of an unreadable payload an ``error`` repeats."""
_log = logging.getLogger("improviser.mqtt")


def _decode(payload: bytes, limit: int) -> tuple[object, str | None]:
    """The JSON value of ``payload``, or what is wrong with it."""
    if len(payload) > limit:
        return None, f"payload of {len(payload)} bytes is over the limit of {limit}; not read"
    try:
        return json.loads(payload.decode("utf-8")), None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        text = payload.decode("utf-8", errors="replace")
        shown = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."
        return shown, (f'not JSON: {shown!r} (send a JSON value: 0.7, "follow", true, {{}})')


def take_control(
    controls: Controls, key: str, payload: bytes, *, limit: int, at: float
) -> tuple[bool, ControlReply]:
    """Apply ``set/<key>``'s payload; whether it was done, and the reply to publish."""
    value, problem = _decode(payload, limit)
    if problem is not None:
        return False, ControlReply(key=key, value=value, message=problem)
    try:
        done = controls.apply(key, value, at)
    except ImproviserError as exc:
        return False, ControlReply(key=key, value=value, message=str(exc))
    except Exception as exc:  # a bug must not take the bridge down; it is logged in full
        _log.exception("control %s = %r failed", key, value)
        message = f"control {key!r}: internal error ({type(exc).__name__})"
        return False, ControlReply(key=key, value=value, message=message)
    _log.info("mqtt: control %s = %r", key, done)
    return True, ControlReply(key=key, value=done, message=f"{key} = {done!r}")
