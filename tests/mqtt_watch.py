"""An MQTT client for the tests: collects every message under ``improviser/#``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
import jsonschema

from improviser.telemetry.schemas import SCHEMA_DIR

SCHEMAS = {p.stem: json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.json")}


@dataclass
class Seen:
    """Messages received, as (topic, decoded JSON)."""

    messages: list[tuple[str, Any]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def take(self, topic: str, payload: bytes) -> None:
        kind = topic.split("/")[2]
        if kind == "set":  # what the test itself sent, some of it not JSON on purpose
            return
        data = json.loads(payload)
        if kind in SCHEMAS:  # every payload we publish has a schema, checked here
            errors = list(jsonschema.Draft202012Validator(SCHEMAS[kind]).iter_errors(data))
            if errors:
                self.invalid.append(f"{topic}: {errors[0].message}")
        self.messages.append((topic, data))

    def of(self, topic: str) -> list[Any]:
        return [d for t, d in self.messages if t == topic]

    def last(self, topic: str) -> Any:
        found = self.of(topic)
        return found[-1] if found else None

    async def wait(self, predicate: Callable[[], object], limit: float = 15.0) -> None:
        deadline = time.monotonic() + limit
        while not predicate():
            if time.monotonic() > deadline:
                tail = self.messages[-5:]
                raise AssertionError(f"condition not reached within {limit} s; last: {tail}")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def watching(
    port: int, pattern: str = "improviser/#", tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[Seen, aiomqtt.Client]]:
    """A connected client subscribed to ``pattern``; what it sees, and the client."""
    seen = Seen()
    async with aiomqtt.Client("127.0.0.1", port, tls_context=tls) as client:
        await client.subscribe(pattern, 1)

        async def collect() -> None:
            async for message in client.messages:
                seen.take(str(message.topic), bytes(message.payload))  # type: ignore[arg-type]

        task = asyncio.create_task(collect(), name="test.mqtt.watch")
        try:
            yield seen, client
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task
    assert not seen.invalid, seen.invalid
