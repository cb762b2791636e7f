"""Shared fixtures: a fake clock, the JACK server, a tiny trained model."""

from __future__ import annotations

import pytest

from tests.fakes import FakeClock
from tests.jack import jack_server, player  # noqa: F401  (a real JACK server, a player on it)
from tests.model_fixtures import trained, trained_harmony  # noqa: F401  (session-scoped)


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock()
