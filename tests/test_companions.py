"""A companion never holds up the end of a session (:func:`guarded`)."""

from __future__ import annotations

import asyncio

import pytest

from improviser.live.session.companions import guarded


async def _stubborn(swallowed: list[int]) -> None:
    """Loses the first cancellation (as ``asyncio.wait_for`` can before 3.12), not later ones."""
    while True:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed.append(1)


async def test_a_companion_that_loses_its_cancel_is_left_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swallowed: list[int] = []
    task = asyncio.create_task(guarded("stubborn", _stubborn(swallowed), grace=0.2))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert swallowed == [1]
    assert "stubborn did not stop within 0.2 s of the session's end" in caplog.text
    (inner,) = [t for t in asyncio.all_tasks() if t.get_name() == "stubborn.work"]
    inner.cancel()  # the second cancel is heard
    with pytest.raises(asyncio.CancelledError):
        await inner


async def test_a_companion_stops_when_cancelled_and_its_failure_is_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    task = asyncio.create_task(guarded("calm", asyncio.sleep(10)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert "did not stop" not in caplog.text

    async def broken() -> None:
        raise RuntimeError("a bug in a companion")

    with pytest.raises(RuntimeError, match="a bug in a companion"):
        await guarded("broken", broken())


async def test_the_mqtt_bridge_raises_a_cancel_a_publish_swallowed() -> None:
    from improviser.telemetry.bridge import _raise_if_cancelled

    reached: list[str] = []

    async def publishing() -> None:
        try:
            await asyncio.sleep(10)  # the publish: its cancel lost...
        except asyncio.CancelledError:
            reached.append("swallowed")
        _raise_if_cancelled()  # ...and found again after it
        reached.append("went on")

    task = asyncio.create_task(publishing())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reached == ["swallowed"]
