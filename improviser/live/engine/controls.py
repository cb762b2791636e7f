"""Every live control in one place, with one entry point: :meth:`Controls.apply`.

A control is a *setting* (a value of the ``[live]`` config: temperature, top-p, mode,
answer length, phrase gap...), a *switch* (mute, loop) or an *action* (panic, end of
call, regenerate). The list is data (:data:`CONTROLS`), and each control's JSON Schema
comes from the config model itself (:meth:`Controls.schema`), so the MQTT bridge can
publish it and validate against it without declaring anything twice.

The session adds controls of its own (recording, loading a model) with
:meth:`Controls.register`: a :class:`ControlHandler` validates, acts and says its value.
A bad value changes nothing and raises :class:`~improviser.errors.ControlError`, one
line naming the key and the value; values are checked strictly (``"0.7"`` is not a
number, ``1`` is not ``true``). The keyboard's CCs (``cc_<action>`` in the config)
reach the same entry point through :meth:`Controls.from_cc`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ValidationError

from improviser.config.live import LiveConfig
from improviser.errors import ControlError

__all__ = [
    "CONTROLS",
    "LISTEN_CONTROLS",
    "ControlHandler",
    "ControlSpec",
    "Controllable",
    "Controls",
    "control_schemas",
]

Kind = Literal["setting", "switch", "action"]


@dataclass(frozen=True, slots=True)
class ControlSpec:
    """One control: its key, what kind it is, and what it does."""

    key: str
    kind: Kind
    description: str
    setting: str | None = None
    """For a setting: its path in ``[live]`` (``sampling.temperature``)."""


CONTROLS: tuple[ControlSpec, ...] = (
    ControlSpec("temperature", "setting", "sampling temperature", "sampling.temperature"),
    ControlSpec("top_p", "setting", "nucleus sampling mass", "sampling.top_p"),
    ControlSpec("top_k", "setting", "keep the k likeliest pitches (0 = all)", "sampling.top_k"),
    ControlSpec("mode", "setting", "how the improviser answers", "mode"),
    ControlSpec("answer_length", "setting", "answer length: notes, beats or call", "answer_length"),
    ControlSpec(
        "answer_notes", "setting", "notes per answer (answer_length notes)", "answer_notes"
    ),
    ControlSpec(
        "answer_beats", "setting", "beats per answer (answer_length beats)", "answer_beats"
    ),
    ControlSpec("phrase_gap", "setting", "seconds of silence that end a phrase", "phrase_gap"),
    ControlSpec("short_term", "setting", "blend in the session's short-term model", "short_term"),
    ControlSpec(
        "short_term_weight", "setting", "the short-term model's weight", "short_term_weight"
    ),
    ControlSpec("key", "setting", "key of the answers: auto, off or e.g. 'D minor'", "key"),
    ControlSpec(
        "scale_strength", "setting", "out-of-key pitches weighed by 1 - this", "scale_strength"
    ),
    ControlSpec("register", "setting", "keep answers near the player's register", "keep_register"),
    ControlSpec(
        "accompany_voices", "setting", "voices under the melody: 1 bass .. 3", "accompany_voices"
    ),
    ControlSpec(
        "accompany_rhythm", "setting", "voices move: melody, beat or bar", "accompany_rhythm"
    ),
    ControlSpec("mute", "switch", "stop answering (the session keeps listening)"),
    ControlSpec("loop", "switch", "repeat the last answer until switched off"),
    ControlSpec("panic", "action", "release every note, then all-notes-off on each channel"),
    ControlSpec("end_call", "action", "the player's call is over: answer now"),
    ControlSpec("regenerate", "action", "answer the last call again, differently"),
)
"""Every control, in the order they are listed to people."""
LISTEN_CONTROLS = frozenset(
    {"short_term", "short_term_weight", "key", "scale_strength", "register"}
)
"""The controls of how the improviser listens (:class:`~improviser.config.ListenConfig`)."""


class Controllable(Protocol):
    """What the controls act on (the live engine)."""

    config: LiveConfig

    def setting_changed(self, key: str, at: float) -> None:
        """A setting of ``config`` was changed by a control."""

    def switch(self, key: str, on: bool, at: float) -> None:
        """Turn ``mute`` or ``loop`` on or off."""

    def switched(self, key: str) -> bool:
        """Whether ``mute`` or ``loop`` is on."""

    def act(self, key: str, at: float) -> None:
        """Do ``panic``, ``end_call`` or ``regenerate`` now."""


class ControlHandler(Protocol):
    """A control the engine does not own (registered with :meth:`Controls.register`)."""

    spec: ClassVar[ControlSpec]

    def apply(self, value: object, at: float) -> object:
        """Validate ``value`` and act; the value now in force. :class:`ControlError` else."""

    def value(self) -> object:
        """The value now in force (``None`` for none)."""

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The JSON Schema of the control's value."""


def _section(model: BaseModel, path: str) -> tuple[BaseModel, str]:
    *parents, leaf = path.split(".")
    for name in parents:
        model = getattr(model, name)
    return model, leaf


def control_schemas(
    specs: tuple[ControlSpec, ...] = CONTROLS,
    handlers: Mapping[str, type[ControlHandler]] | None = None,
) -> dict[str, dict[str, Any]]:
    """The JSON Schema of each control's value (settings: from the config model)."""
    live = LiveConfig.model_json_schema()
    defs: Mapping[str, Any] = live.get("$defs", {})
    handlers = handlers or {}
    out: dict[str, dict[str, Any]] = {}
    for spec in specs:
        if spec.key in handlers:
            schema: dict[str, Any] = handlers[spec.key].schema()
        elif spec.kind == "switch":
            schema = {"type": "boolean"}
        elif spec.kind == "action":
            schema = {"description": "any value: the action is done on receipt"}
        else:
            assert spec.setting is not None
            props: Mapping[str, Any] = live["properties"]
            *parents, leaf = spec.setting.split(".")
            for name in parents:
                ref = props[name].get("$ref", "").rsplit("/", 1)[-1]
                props = defs[ref]["properties"]
            schema = {k: v for k, v in props[leaf].items() if k not in ("default", "title")}
        out[spec.key] = {"title": spec.key, "description": spec.description, **schema}
    return out


class Controls:
    """The live controls of one engine."""

    def __init__(self, target: Controllable, specs: tuple[ControlSpec, ...] = CONTROLS) -> None:
        self.target = target
        self.specs = {spec.key: spec for spec in specs}
        self.handlers: dict[str, ControlHandler] = {}
        self._cc_last: dict[int, int] = {}

    def register(self, handler: ControlHandler) -> None:
        """Add a control of the session's (its key must be new)."""
        key = handler.spec.key
        if key in self.specs:
            raise ValueError(f"control {key!r} exists already")
        self.specs[key] = handler.spec
        self.handlers[key] = handler

    def _spec(self, key: str) -> ControlSpec:
        spec = self.specs.get(key)
        if spec is None:
            raise ControlError(f"unknown control {key!r} (known: {', '.join(self.specs)})")
        return spec

    def apply(self, key: str, value: object, at: float) -> object:
        """Set or do ``key``; return the value now in force.

        Settings take a value of their config type, switches a boolean, actions anything
        (``true``, ``{}``, ``null``: the payload is not read). Raises
        :class:`ControlError` (nothing changed) for an unknown key or a bad value.
        """
        spec = self._spec(key)
        handler = self.handlers.get(key)
        if handler is not None:
            return handler.apply(value, at)
        if spec.kind == "action":
            self.target.act(key, at)
            return True
        if spec.kind == "switch":
            if not isinstance(value, bool):
                raise ControlError(f"control {key!r}: expected true or false, got {value!r}")
            self.target.switch(key, value, at)
            return value
        assert spec.setting is not None
        config = self.target.config
        trial = config.model_copy(deep=True)
        section, leaf = _section(trial, spec.setting)
        try:
            validator = type(section).__pydantic_validator__
            validator.validate_assignment(section, leaf, value, strict=True)
            LiveConfig.model_validate(trial.model_dump())  # cross-field rules too
        except ValidationError as exc:
            message = exc.errors()[0]["msg"]
            raise ControlError(f"control {key!r}: {message} (got {value!r})") from None
        real, _ = _section(config, spec.setting)
        setattr(real, leaf, getattr(section, leaf))
        self.target.setting_changed(key, at)
        return getattr(real, leaf)

    def values(self) -> dict[str, object]:
        """The current value of every setting and switch."""
        out: dict[str, object] = {}
        for spec in self.specs.values():
            if spec.key in self.handlers:
                out[spec.key] = self.handlers[spec.key].value()
            elif spec.kind == "setting":
                assert spec.setting is not None
                section, leaf = _section(self.target.config, spec.setting)
                out[spec.key] = getattr(section, leaf)
            elif spec.kind == "switch":
                out[spec.key] = self.target.switched(spec.key)
        return out

    def schema(self) -> dict[str, dict[str, Any]]:
        """The JSON Schema of each control's value, from the config model's own schema."""
        handlers = {key: type(handler) for key, handler in self.handlers.items()}
        return control_schemas(tuple(self.specs.values()), handlers)

    # --- the keyboard's controls ---------------------------------------------------------------
    def from_cc(self, number: int, value: int, at: float) -> bool:
        """Act on a bound CC (``cc_<action>`` in the config); whether it was one."""
        action = self.target.config.control_map().get(number)
        if action is None:
            return False
        previous = self._cc_last.get(number, 0)
        self._cc_last[number] = value
        if action == "temperature":
            cfg = self.target.config
            span = cfg.temperature_max - cfg.temperature_min
            self.apply("temperature", cfg.temperature_min + span * value / 127, at)
        elif self.specs[action].kind == "switch":
            self.apply(action, value >= 64, at)
        elif value >= 64 > previous:  # an action fires on the rising edge only
            self.apply(action, True, at)
        return True
