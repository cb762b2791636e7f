"""Options of ``improviser live`` (the ``[live]`` section of the config)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LiveConfig"]


class LiveConfig(BaseModel):
    """How the live engine listens and answers."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    api: Literal["auto", "jack", "alsa", "coremidi", "winmm"] = "auto"
    mode: Literal["call-response", "follow"] = "call-response"
    window: int = Field(30, ge=2, le=1024)
