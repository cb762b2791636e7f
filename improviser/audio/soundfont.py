"""Finding the General MIDI SoundFont the synth plays.

The one named in the config (``synth.soundfont``, ``--soundfont``) wins; else Debian's:
``timgm6mb-soundfont`` (6 MB, what ``make system-deps`` installs) registers itself as
``/usr/share/sounds/sf2/default-GM.sf2``; ``fluid-soundfont-gm`` (145 MB, fuller) and
MuseScore's are taken where installed. None found: one line naming the package to install.
"""

from __future__ import annotations

from pathlib import Path

from improviser.errors import SynthError

__all__ = ["INSTALL_HINT", "SEARCHED", "find_soundfont"]

SEARCHED: tuple[Path, ...] = (
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf3/default-GM.sf3"),
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
)
"""Where Debian's GM SoundFont packages put their files, the small default first."""
INSTALL_HINT = "apt-get install timgm6mb-soundfont"


def find_soundfont(configured: Path | None = None) -> Path:
    """The SoundFont to load: ``configured`` if given (it must exist), else Debian's."""
    if configured is not None:
        path = configured.expanduser()
        if not path.is_file():
            raise SynthError(f"SoundFont {configured} not found (synth.soundfont, --soundfont)")
        return path
    for path in SEARCHED:
        if path.is_file():
            return path
    raise SynthError(
        f"no General MIDI SoundFont found in /usr/share/sounds: install one "
        f"({INSTALL_HINT}) or name one with --soundfont / synth.soundfont"
    )
