"""OSC addresses -> the one control entry point: a python-osc :class:`Dispatcher` built
from the session's controls.

Each control ``<key>`` of the session is mapped at ``/improviser/<instance>/set/<key>``;
``/improviser/<instance>/get`` asks for every value to be sent again; anything else
reaches the default handler, which refuses it. A handler turns the message's OSC
arguments into the JSON value the control takes (:func:`value_of`, led by the control's
JSON Schema), calls :meth:`~improviser.live.engine.controls.Controls.apply` and hands a
:class:`Reply` (an ack or an error) to ``on_reply``; it never raises. Validation is the
controls' own (strict: ``"0.7"`` is not a number); what is adapted here is only what OSC
cannot say or says another way:

- OSC has no JSON: one argument is one value; ``T``/``F`` are booleans, ``N`` is null;
- control surfaces send floats for everything: a float with no fraction is taken for an
  integer control, 0 and 1 (int or float) for a switch;
- an OSC float is 32-bit: it is read back to 7 significant digits (``0.7f`` is
  ``0.699999988`` on the wire, and is taken as ``0.7``);
- a control whose value may be an object (``record``) takes it as a JSON string.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pythonosc.dispatcher import Dispatcher

from improviser.errors import ControlError
from improviser.telemetry.topics import ROOT

__all__ = ["OscAddresses", "OscControls", "Reply", "build_dispatcher", "value_of"]

_log = logging.getLogger("improviser.osc")
SIGNIFICANT_DIGITS = 7
"""What a 32-bit float carries of a decimal number."""
_SCALARS = (bool, int, float, str, type(None))


class OscControls(Protocol):
    """What the OSC face steers (:class:`~improviser.live.engine.controls.Controls`)."""

    def apply(self, key: str, value: object, at: float) -> object:
        """Set or do ``key``; the value now in force (``ControlError``: nothing changed)."""

    def schema(self) -> dict[str, dict[str, Any]]:
        """Each control's JSON Schema, by key."""


@dataclass(frozen=True, slots=True)
class OscAddresses:
    """The addresses of one instance: ``/improviser/<instance>/...``."""

    instance: str

    @property
    def base(self) -> str:
        """``/improviser/<instance>``."""
        return f"/{ROOT}/{self.instance}"

    def set(self, key: str) -> str:
        """Where the control ``key`` is sent (and where its value is sent back)."""
        return f"{self.base}/set/{key}"

    @property
    def get(self) -> str:
        """Asks for the status and every value to be sent again."""
        return f"{self.base}/get"

    def status(self, field: str) -> str:
        """One field of the status (``state``, ``mode``, ``bpm``...)."""
        return f"{self.base}/status/{field}"

    def note(self, part: str) -> str:
        """A note of the ``player``'s or the ``improviser``'s."""
        return f"{self.base}/note/{part}"

    @property
    def event(self) -> str:
        """Phrases, answers, ports, recordings, models."""
        return f"{self.base}/event"

    @property
    def ack(self) -> str:
        """A control was done."""
        return f"{self.base}/ack"

    @property
    def error(self) -> str:
        """A message was refused (nothing changed)."""
        return f"{self.base}/error"


@dataclass(frozen=True, slots=True)
class Reply:
    """What one message made: done (an ack) or refused (an error; nothing changed)."""

    ok: bool
    key: str
    """The control, or the address received when it names none."""
    value: object
    """Ack: the value in force; error: the value read, or ``None``."""
    message: str
    sender: tuple[str, int] | None = None


def _types(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types a schema admits (empty: anything)."""
    if "type" in schema:
        kind = schema["type"]
        return set(kind) if isinstance(kind, list) else {kind}
    if "enum" in schema:
        names = {bool: "boolean", int: "integer", float: "number", str: "string"}
        return {names.get(type(v), "null") for v in schema["enum"]}
    if "anyOf" in schema:
        return set().union(*(_types(option) for option in schema["anyOf"]))
    if "properties" in schema:
        return {"object"}
    return set()


def _decimal(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def value_of(key: str, args: tuple[object, ...], schema: Mapping[str, Any]) -> object:
    """The JSON value the OSC arguments ``args`` give control ``key`` (see the module).

    :class:`ControlError` when OSC cannot carry it that way (several arguments, a blob,
    an array, JSON that does not parse); range and type are the control's to check.
    """
    types = _types(schema)
    if not types:  # an action: the arguments are not read
        return True
    if len(args) != 1:
        raise ControlError(f"control {key!r}: expected one argument, got {len(args)}")
    (value,) = args
    if not isinstance(value, _SCALARS):
        raise ControlError(
            f"control {key!r}: OSC argument of type {type(value).__name__} is not taken "
            "(send a number, a string, true/false or nil)"
        )
    if isinstance(value, float):
        value = _decimal(value)
    if isinstance(value, bool) or value is None:
        return value
    numeric = isinstance(value, int | float)
    if numeric and "boolean" in types and not types & {"integer", "number"} and value in (0, 1):
        return bool(value)
    if isinstance(value, float) and "integer" in types and "number" not in types:
        return int(value) if value.is_integer() else value
    if isinstance(value, str) and "object" in types and value.lstrip().startswith("{"):
        try:
            return json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            raise ControlError(f"control {key!r}: not JSON: {value[:64]!r}") from None
    return value


def build_dispatcher(
    controls: OscControls,
    addresses: OscAddresses,
    *,
    now: Callable[[], float],
    on_reply: Callable[[Reply], None],
    on_get: Callable[[], None],
) -> Dispatcher:
    """A dispatcher of every control of ``controls`` at ``addresses``; see the module."""
    schemas = controls.schema()
    set_prefix = addresses.set("")

    def take(sender: tuple[str, int], address: str, fixed: list[Any], *args: object) -> None:
        key = fixed[0]
        try:
            value = value_of(key, args, schemas[key])
        except ControlError as exc:
            on_reply(Reply(False, key, None, str(exc), sender))
            return
        try:
            done = controls.apply(key, value, now())
        except ControlError as exc:
            on_reply(Reply(False, key, value, str(exc), sender))
            return
        except Exception as exc:  # a bug must not take the face down; it is logged in full
            _log.exception("osc: control %s = %r failed", key, value)
            message = f"control {key!r}: internal error ({type(exc).__name__})"
            on_reply(Reply(False, key, value, message, sender))
            return
        on_reply(Reply(True, key, done, f"{key} = {done!r}", sender))

    def get(sender: tuple[str, int], address: str, *args: object) -> None:
        on_get()

    def unknown(sender: tuple[str, int], address: str, *args: object) -> None:
        if address.startswith(set_prefix):
            known = ", ".join(schemas)
            message = f"unknown control {address[len(set_prefix) :]!r} (known: {known})"
        elif address.startswith(f"{addresses.base}/"):
            where = f"{set_prefix}<control> or {addresses.get}"
            message = f"unknown address {address!r} (send to {where})"
        else:
            message = f"unknown address {address!r} (this is {addresses.base})"
        on_reply(Reply(False, address, None, message, sender))

    dispatcher = Dispatcher(strict_timing=False)
    for key in schemas:
        dispatcher.map(addresses.set(key), take, key, needs_reply_address=True)
    dispatcher.map(addresses.get, get, needs_reply_address=True)
    dispatcher.set_default_handler(unknown, needs_reply_address=True)
    return dispatcher
