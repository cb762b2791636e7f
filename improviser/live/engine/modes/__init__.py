"""Answer modes: one module each, chosen by ``live.mode``.

``call-response`` (:class:`CallResponse`) answers each phrase; ``follow``
(:class:`Follow`) plays a predicted note after each note played; ``accompany``
(:class:`Accompany`) plays lower voices under the player's melody. A new mode is a module
here with a class that satisfies :class:`AnswerMode`, listed in :data:`MODES`, and its
name added to :data:`improviser.config.live.MODES` (a test checks the two agree).
"""

from __future__ import annotations

from improviser.live.engine.modes.accompany import Accompany
from improviser.live.engine.modes.base import AnswerMode
from improviser.live.engine.modes.call_response import CallResponse
from improviser.live.engine.modes.follow import Follow
from improviser.live.engine.voice import Voice

__all__ = ["MODES", "Accompany", "AnswerMode", "CallResponse", "Follow", "make_mode"]

MODES: dict[str, type[AnswerMode]] = {
    CallResponse.name: CallResponse,
    Follow.name: Follow,
    Accompany.name: Accompany,
}


def make_mode(name: str, voice: Voice) -> AnswerMode:
    """The mode called ``name``, playing through ``voice``."""
    try:
        cls = MODES[name]
    except KeyError:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {name!r}") from None
    return cls(voice)
