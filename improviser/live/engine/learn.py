"""``--learn ACTION``: bind a hands-on control to the next CC the player moves."""

from __future__ import annotations

import asyncio
import time

from improviser.config.live import CONTROL_ACTIONS, LiveConfig
from improviser.errors import ConfigError, PortError
from improviser.live.io.midi import SUSTAIN, InMessage, Kind
from improviser.live.io.ports import MidiInput, resolve_api

__all__ = ["learn_control"]


async def learn_control(config: LiveConfig, action: str, wait_seconds: float = 60.0) -> int:
    """Wait for the next CC on the input (the sustain pedal aside) and return its number."""
    if action not in CONTROL_ACTIONS:
        raise ConfigError(f"--learn must be one of {', '.join(CONTROL_ACTIONS)}; got {action!r}")
    loop = asyncio.get_running_loop()
    found: asyncio.Future[int] = loop.create_future()

    def take(message: InMessage) -> None:
        if message.kind == Kind.CONTROL and message.data1 != SUSTAIN and not found.done():
            found.set_result(message.data1)

    def hand_over(message: InMessage) -> None:
        loop.call_soon_threadsafe(take, message)

    port = MidiInput(
        resolve_api(config.api),
        f"{config.client_name}-learn",
        config.in_port,
        config.virtual,
        on_message=hand_over,
        clock=time.perf_counter,
    )
    with port:
        try:
            async with asyncio.timeout(wait_seconds):
                return await found
        except TimeoutError:
            raise PortError(f"no CC moved on {port.name!r} within {wait_seconds:g} s") from None
