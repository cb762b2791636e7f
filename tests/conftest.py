"""Shared fixtures."""

from tests.model_fixtures import trained  # noqa: F401  (session-scoped, trained once)
