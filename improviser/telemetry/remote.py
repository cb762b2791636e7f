"""The engineer's side: send one control and wait for its answer; follow instances.

Used by ``improviser set`` and ``improviser watch``. Broker trouble is an
:class:`~improviser.errors.MqttError`, a refused control a
:class:`~improviser.errors.ControlError`: one line each.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
from pydantic import ValidationError

from improviser.config.mqtt import MqttConfig
from improviser.errors import ControlError, MqttError
from improviser.telemetry.connection import client_options, describe
from improviser.telemetry.payloads import ControlReply
from improviser.telemetry.schemas import TOPIC_MODELS
from improviser.telemetry.topics import Topics, instance_of

__all__ = ["ALL", "InstanceView", "WatchState", "send_control", "watch"]

ALL = "all"
"""``--instance all``: every instance on the broker."""
KEPT = 8
"""Notes and events kept per instance."""


def _identifier(role: str) -> str:
    return f"improviser-{role}-{os.getpid()}-{os.urandom(3).hex()}"


async def send_control(
    config: MqttConfig,
    password: str | None,
    instance: str,
    key: str,
    value: object,
    *,
    wait: float = 5.0,
) -> ControlReply:
    """Publish ``set/<key>`` to ``instance``; its ``ack``. :class:`ControlError` on ``error``."""
    topics = Topics(instance)
    try:
        async with aiomqtt.Client(
            **client_options(config, password, identifier=_identifier("set"))
        ) as client:
            await client.subscribe(topics.ack, 1)
            await client.subscribe(topics.error, 1)
            await client.publish(topics.set(key), json.dumps(value), 1)
            async with asyncio.timeout(wait):
                async for message in client.messages:
                    try:
                        reply = ControlReply.model_validate_json(bytes(message.payload))
                    except ValidationError:
                        continue
                    if reply.key != key:
                        continue
                    if str(message.topic) == topics.error:
                        raise ControlError(f"{instance}: {reply.message}")
                    return reply
    except aiomqtt.MqttError as exc:
        raise MqttError(describe(exc, config)) from None
    except TimeoutError:
        raise MqttError(
            f"no answer from instance {instance!r} within {wait:g} s (is it online? "
            "try 'improviser watch')"
        ) from None
    raise MqttError(f"the broker closed the connection before {instance!r} answered")


@dataclass(slots=True)
class InstanceView:
    """What is known of one instance."""

    status: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    notes: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=KEPT))
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=KEPT))
    last_reply: dict[str, Any] | None = None
    """The last ``ack`` or ``error`` (with ``"topic"``)."""


@dataclass(slots=True)
class WatchState:
    """Every instance seen, by name."""

    instances: dict[str, InstanceView] = field(default_factory=dict)

    def take(self, topic: str, payload: bytes) -> bool:
        """File one message; whether it was one of ours and readable."""
        instance = instance_of(topic)
        kind = topic.rsplit("/", 1)[-1]
        model = TOPIC_MODELS.get(kind)
        if instance is None or model is None or topic.count("/") != 2:
            return False
        try:
            data = model.model_validate_json(payload).model_dump(exclude_none=True)
        except ValidationError:
            return False
        view = self.instances.setdefault(instance, InstanceView())
        if kind == "status":
            view.status = data
        elif kind == "stats":
            view.stats = data
        elif kind == "notes":
            view.notes.append(data)
        elif kind == "events":
            view.events.append(data)
        else:
            view.last_reply = {"topic": kind, **data}
        return True


async def watch(
    config: MqttConfig,
    password: str | None,
    instance: str,
    on_change: Callable[[WatchState], None],
    *,
    seconds: float | None = None,
) -> WatchState:
    """Follow ``instance`` (or :data:`ALL`), calling ``on_change`` after each message.

    Until cancelled, or for ``seconds``; the state seen.
    """
    state = WatchState()
    pattern = Topics("+" if instance == ALL else instance).all
    try:
        async with aiomqtt.Client(
            **client_options(config, password, identifier=_identifier("watch"))
        ) as client:
            await client.subscribe(pattern, 0)
            async with asyncio.timeout(seconds):
                async for message in client.messages:
                    raw = message.payload
                    if isinstance(raw, bytes | bytearray) and state.take(
                        str(message.topic), bytes(raw)
                    ):
                        on_change(state)
    except aiomqtt.MqttError as exc:
        raise MqttError(describe(exc, config)) from None
    except TimeoutError:
        pass
    return state
