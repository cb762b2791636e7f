"""The MQTT bridge: one companion task of a live session, inside its event loop.

:class:`MqttBridge` subscribes to the session's events (a bounded queue: while the
broker is slow or away its oldest events are dropped and counted, published as
``mqtt_dropped`` in ``stats``), publishes them under ``improviser/<instance>/`` and
takes the controls sent to ``set/<key>``, each through the one control entry point
(:meth:`~improviser.live.engine.controls.Controls.apply`), answering on ``ack`` or ``error``.

The connection is one ``async with aiomqtt.Client`` at a time. Its last will is the
``offline`` status (retained); on connecting it publishes the live status (retained).
A broker absent at the start or lost later never touches the MIDI side: the bridge
logs the reason once (again only when it changes) and reconnects after a capped,
jittered exponential backoff (:func:`~improviser.telemetry.connection.backoff`). On
leaving, it publishes the ``offline`` status itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiomqtt

from improviser.config.mqtt import MqttConfig
from improviser.live.events import Subscription
from improviser.live.session.session import LiveSession
from improviser.telemetry.connection import backoff, client_options, describe, tls_context
from improviser.telemetry.control import take_control
from improviser.telemetry.messages import Message, Messages, offline_status
from improviser.telemetry.topics import Topics

__all__ = ["GOODBYE_SECONDS", "STABLE_SECONDS", "MqttBridge"]

_log = logging.getLogger("improviser.mqtt")
GOODBYE_SECONDS = 1.0
"""At most this long is spent publishing ``offline`` when the session ends."""
STABLE_SECONDS = 10.0
"""A connection that lasted this long starts the backoff again from its shortest wait."""


class MqttBridge:
    """Publishes one session and takes its controls (a session companion: ``bridge(session)``)."""

    def __init__(self, config: MqttConfig, *, password: str | None = None) -> None:
        tls_context(config)  # bad certificate files fail now, before the session starts
        self.config = config
        self._password = password
        self.topics = Topics(config.instance_name)
        self.identifier = config.client_id or f"improviser-{self.topics.instance}"
        self.online = asyncio.Event()
        """Set while connected (its status published)."""
        self.last_error: str | None = None
        """Why the last connection failed (``None``: connected, or never failed)."""
        self.messages: Messages | None = None

    def __repr__(self) -> str:
        return f"MqttBridge({self.config.host}:{self.config.broker_port}, {self.topics.base})"

    async def __call__(self, session: LiveSession) -> None:
        """Run beside ``session`` until cancelled."""
        messages = self.messages = Messages(self.config, session)
        events = session.bus.subscribe(self.config.queue_size)
        loop = asyncio.get_running_loop()
        attempt = 0
        try:
            while True:
                began = loop.time()
                try:
                    await self._connection(session, messages, events)
                except aiomqtt.MqttError as exc:
                    self._failed(exc)
                except Exception:  # a bug here must never end the session: log, go on
                    self.online.clear()
                    _log.exception("mqtt: the bridge failed; reconnecting")
                if loop.time() - began >= STABLE_SECONDS:
                    attempt = 0
                await asyncio.sleep(
                    backoff(attempt, self.config.reconnect_min, self.config.reconnect_max)
                )
                attempt += 1
        finally:
            self.online.clear()
            events.close()

    def _failed(self, exc: aiomqtt.MqttError) -> None:
        self.online.clear()
        line = describe(exc, self.config)
        if line != self.last_error:
            self.last_error = line
            refused = "refused us" in line
            _log.log(logging.ERROR if refused else logging.WARNING, "%s; will retry", line)

    async def _connection(
        self, session: LiveSession, messages: Messages, events: Subscription
    ) -> None:
        cfg, topics = self.config, self.topics
        will = aiomqtt.Will(
            topics.status, offline_status(topics.instance).encode(), cfg.qos, retain=True
        )
        options = client_options(cfg, self._password, identifier=self.identifier, will=will)
        async with aiomqtt.Client(**options) as client:
            messages.connects += 1
            await client.subscribe(topics.controls, cfg.qos)
            await self._send(client, messages.status())
            self.online.set()
            if self.last_error is not None or messages.connects > 1:
                _log.warning("mqtt: connected again to %s:%s", cfg.host, cfg.broker_port)
            self.last_error = None
            try:
                await self._serve(client, session, messages, events)
            except asyncio.CancelledError:
                await self._goodbye(client)
                raise

    async def _serve(
        self,
        client: aiomqtt.Client,
        session: LiveSession,
        messages: Messages,
        events: Subscription,
    ) -> None:
        """Publish and listen until the connection fails (then its first error is raised)."""
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(
                    self._pump(client, messages, events), name="improviser.mqtt.publish"
                )
                group.create_task(
                    self._listen(client, session, messages), name="improviser.mqtt.controls"
                )
        except* aiomqtt.MqttError as failed:
            raise failed.exceptions[0] from None

    async def _goodbye(self, client: aiomqtt.Client) -> None:
        """Publish ``offline`` (retained) before a clean disconnect, if the broker is there."""
        self.online.clear()
        offline = offline_status(self.topics.instance).encode()
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            async with asyncio.timeout(GOODBYE_SECONDS):
                await client.publish(self.topics.status, offline, self.config.qos, retain=True)

    async def _pump(self, client: aiomqtt.Client, messages: Messages, events: Subscription) -> None:
        delay = self.config.publish_delay_ms / 1000
        while True:
            gathered = [await events.get()]
            if delay > 0:
                await asyncio.sleep(delay)  # the answer leaves through JACK meanwhile
            gathered += events.drain()
            messages.mqtt_dropped = events.dropped
            for event in gathered:
                for message in messages.of(event):
                    await self._send(client, message)

    async def _listen(
        self, client: aiomqtt.Client, session: LiveSession, messages: Messages
    ) -> None:
        engine = session.engine
        assert engine is not None
        topics = self.topics
        async for incoming in client.messages:
            key = topics.control_key(str(incoming.topic))
            if key is None:
                continue
            raw = incoming.payload
            payload = bytes(raw) if isinstance(raw, bytes | bytearray) else str(raw).encode()
            done, reply = take_control(
                engine.controls, key, payload, limit=self.config.max_payload, at=session.now()
            )
            topic = topics.ack if done else topics.error
            await self._send(client, Message(topic, reply.encode(), self.config.qos))
            if done:
                await self._send(client, messages.status())

    @staticmethod
    async def _send(client: aiomqtt.Client, message: Message) -> None:
        await client.publish(message.topic, message.payload, message.qos, retain=message.retain)
        _raise_if_cancelled()


def _raise_if_cancelled() -> None:
    """Raise the cancellation of this task if an await swallowed it.

    aiomqtt waits for a publish's acknowledgement with ``asyncio.wait_for``, which before
    Python 3.12 can lose a cancellation that arrives as the acknowledgement does: the
    publish returns normally and the task goes on, so the session's end waited for a
    bridge that never stopped (seen once in about 25 broker restarts under load).
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
