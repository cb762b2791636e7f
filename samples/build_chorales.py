# music21 is imported inside functions so that importing this module stays cheap.
# ruff: noqa: PLC0415
"""Build the harmony corpus: J. S. Bach's four-part chorales from music21's corpus.

Run it as ``python samples/build_chorales.py --out samples/chorales``. Each score of
music21's ``bach`` folder that has exactly four voice parts (one part each named
Soprano, Alto, Tenor and Bass; instrumental parts beside them are left out) becomes one
type-1 MIDI file: track 0 the tempo, time signature and title, then one track per voice
named Soprano, Alto, Tenor, Bass (channels 0..3), so that
:func:`improviser.music.voicing.events_from_parts` can read it back:

- ties are merged; grace notes are left out; repeats are not expanded (the written form);
- a pickup bar is padded at the front so that every bar line falls on a multiple of the
  bar length (a file's onsets then give their metre class from beat 0);
- the time signature is the score's first (pieces whose bar length changes, or where a
  full bar falls off the bar grid after a short bar mid-piece, are skipped and listed);
- velocity 80; tempo 80 quarter notes a minute (the scores carry no tempo); program 52
  (choir); the title from music21's chorale index where it knows the BWV number;
- scores without exactly four voice parts, or that music21 cannot read, are skipped and
  listed in ``SKIPPED.csv`` with the reason;
- a chorale whose soprano has the content hash of one already kept (intervals and
  normalised rhythm, :func:`build_corpus.content_hash`) is dropped and listed in
  ``DUPLICATES.csv``: the corpus holds some chorales twice.

The output is deterministic: the same music21 corpus gives the same bytes.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import mido

from improviser.music.midi_write import save_atomic, to_midifile
from improviser.music.notes import Note
from improviser.music.voicing import events_from_parts


def _load_corpus_helpers() -> ModuleType:
    """``samples/build_corpus.py`` (not a package): its hash, CSV and corpus helpers."""
    name = "build_corpus"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bc = _load_corpus_helpers()

VOICES = ("Soprano", "Alto", "Tenor", "Bass")
"""The voice parts a chorale must have, one each, in track order."""
SUFFIXES = (".mxl", ".xml", ".krn")
BPM = 80.0
VELOCITY = 80
MIN_EVENTS = 8
MANIFEST_FIELDS = (
    "file",
    "source",
    "bwv",
    "title",
    "time_signature",
    "events",
    "content_hash",
    "sha256",
)


@dataclass(frozen=True, slots=True)
class Chorale:
    """A parsed chorale: its four voices, bar length and title."""

    source: str
    """Path relative to music21's corpus folder, e.g. ``bach/bwv1.6.mxl``."""
    numerator: int
    denominator: int
    parts: tuple[tuple[Note, ...], ...]
    """Soprano, alto, tenor, bass."""
    title: str = ""

    @property
    def beats_per_bar(self) -> float:
        """The bar length in quarter notes."""
        return self.numerator * 4 / self.denominator

    @property
    def stem(self) -> str:
        """The output file name: the source's stem, e.g. ``bwv1.6.mid``."""
        return f"{Path(self.source).stem}.mid"

    @property
    def bwv(self) -> str:
        """The BWV number from the file name (``1.6`` for ``bwv1.6``), ``""`` if none."""
        found = re.match(r"bwv(.+)", Path(self.source).stem)
        return found.group(1) if found else ""


@dataclass(slots=True)
class BuildReport:
    """What a build produced and what it left out."""

    chorales: int = 0
    events: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    seconds: float = 0.0


class SkipError(ValueError):
    """A score that is not a usable four-part chorale (the message says why)."""


def voice_parts(names: Sequence[str | None]) -> list[int]:
    """Indices of the Soprano, Alto, Tenor and Bass parts among part ``names``.

    A part is a voice part when its name's first word is one of :data:`VOICES` (a name
    like "Soprano Oboe 1 Violin1" is a voice doubled by instruments). Raises
    :class:`SkipError` unless there is exactly one part of each voice.
    """
    found: dict[str, list[int]] = {v: [] for v in VOICES}
    for index, name in enumerate(names):
        words = (name or "").split()
        if words and words[0].capitalize() in found:
            found[words[0].capitalize()].append(index)
    if any(len(found[v]) != 1 for v in VOICES):
        named = ", ".join(repr(n) for n in names)
        raise SkipError(f"not exactly four voice parts S/A/T/B (parts: {named})")
    return [found[v][0] for v in VOICES]


def _part_notes(part: Any, shift: Fraction, channel: int) -> tuple[Note, ...]:
    notes = []
    sec = 60.0 / BPM
    for el in part.stripTies().flatten().notes:
        length = Fraction(el.quarterLength)
        if length <= 0 or el.duration.isGrace:
            continue
        start = Fraction(el.offset) + shift
        for pitch in sorted({p.midi for p in el.pitches}):
            notes.append(
                Note(
                    pitch,
                    VELOCITY,
                    float(start) * sec,
                    float(length) * sec,
                    channel,
                    channel + 1,
                    float(start),
                    float(length),
                )
            )
    return tuple(notes)


def _bar_grid(score: Any) -> tuple[int, int, Fraction]:
    """The time signature and the shift that puts every bar line on the bar grid."""
    from music21 import meter, stream

    signatures = list(score.recurse().getElementsByClass(meter.TimeSignature))
    if not signatures:
        raise SkipError("no time signature")
    bar = Fraction(signatures[0].barDuration.quarterLength)
    if any(Fraction(ts.barDuration.quarterLength) != bar for ts in signatures):
        raise SkipError("the bar length changes")
    measures = list(score.parts[0].getElementsByClass(stream.Measure))
    if not measures:
        raise SkipError("no bars")
    first = Fraction(measures[0].duration.quarterLength)
    shift = (bar - first) % bar
    for m in measures:
        if Fraction(m.duration.quarterLength) == bar and (Fraction(m.offset) + shift) % bar:
            raise SkipError(f"a full bar off the bar grid (bar {m.number})")
    return signatures[0].numerator, signatures[0].denominator, shift


def parse_chorale(path: Path, root: Path) -> Chorale:
    """Parse one score into a :class:`Chorale`; raises :class:`SkipError` if unusable."""
    from music21 import converter

    score: Any = converter.parse(path)
    indices = voice_parts([p.partName for p in score.parts])
    numerator, denominator, shift = _bar_grid(score)
    parts = tuple(_part_notes(score.parts[i], shift, channel) for channel, i in enumerate(indices))
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    return Chorale(rel, numerator, denominator, parts)


def titles() -> dict[str, str]:
    """Chorale titles by BWV number, from music21's chorale index (Riemenschneider/BWV).

    The scores carry no title of their own (their metadata names the file); the index
    knows about six in seven of them.
    """
    from music21.corpus import chorales

    index: dict[str, dict[str, Any]] = chorales.ChoraleListRKBWV().byBWV  # type: ignore[no-untyped-call]
    return {bwv: str(entry["title"]) for bwv, entry in index.items()}


def title_of(bwv: str, known: dict[str, str]) -> str:
    """The title of BWV ``bwv`` (``18.5-w`` falls back to ``18.5``), ``""`` if unknown."""
    return known.get(bwv) or known.get(bwv.split("-", maxsplit=1)[0], "")


def _parse_or_reason(job: tuple[Path, Path]) -> Chorale | str:
    try:
        return parse_chorale(*job)
    except SkipError as exc:
        return str(exc)
    except Exception as exc:  # a score music21 cannot read is counted, not fatal
        return f"parse error: {type(exc).__name__}"


def midi_file(chorale: Chorale) -> mido.MidiFile:
    """The type-1 MIDI file of ``chorale``: tempo track, then S, A, T, B tracks."""
    mid = to_midifile(chorale.parts, bpm=BPM, names=VOICES)
    meta = mid.tracks[0]
    for i, msg in enumerate(meta):
        if msg.type == "time_signature":
            meta[i] = msg.copy(numerator=chorale.numerator, denominator=chorale.denominator)
    meta.insert(0, mido.MetaMessage("track_name", name=bc._midi_text(chorale.title), time=0))
    for channel, track in enumerate(mid.tracks[1:]):
        track.insert(1, mido.Message("program_change", program=52, channel=channel, time=0))
    return mid


def sources(root: Path) -> list[Path]:
    """The scores of music21's ``bach`` folder, by name."""
    return sorted(p for p in (root / "bach").iterdir() if p.suffix in SUFFIXES)


def build(paths: Sequence[Path], out: Path, *, root: Path, workers: int = 2) -> BuildReport:
    """Build the chorales of ``paths`` under ``out`` with the manifest and the lists.

    Writes ``out/<stem>.mid`` for each chorale kept, ``MANIFEST.csv``, ``DUPLICATES.csv``
    and ``SKIPPED.csv``; removes ``.mid`` files an earlier build left in ``out``.
    """
    began = time.perf_counter()
    jobs = [(p, root) for p in paths]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_parse_or_reason, jobs, chunksize=4))
    else:
        results = [_parse_or_reason(job) for job in jobs]
    report = BuildReport()
    known = titles()
    seen: dict[str, str] = {}
    manifest: list[dict[str, object]] = []
    duplicates: list[dict[str, object]] = []
    skipped: list[dict[str, object]] = []
    written: set[Path] = set()
    for path, parsed in zip(paths, results, strict=True):
        result = parsed
        if isinstance(result, Chorale):
            result = replace(result, title=title_of(result.bwv, known))
        source = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        events = [] if isinstance(result, str) else _events(result)
        if not isinstance(result, str) and len(events) < MIN_EVENTS:
            result = f"fewer than {MIN_EVENTS} soprano onsets"
        if isinstance(result, str):
            reason = result.split(" (")[0]  # the kind, without the piece's details
            report.skipped[reason] = report.skipped.get(reason, 0) + 1
            skipped.append({"source": source, "reason": result})
            continue
        digest = bc.content_hash(_soprano_line(result))
        if digest in seen:
            report.duplicates += 1
            duplicates.append(
                {
                    "source": source,
                    "title": result.title,
                    "content_hash": digest,
                    "duplicate_of": seen[digest],
                }
            )
            continue
        seen[digest] = result.stem
        target = out / result.stem
        save_atomic(midi_file(result), target)
        written.add(target)
        report.chorales += 1
        report.events += len(events)
        manifest.append(
            {
                "file": result.stem,
                "source": source,
                "bwv": result.bwv,
                "title": result.title,
                "time_signature": f"{result.numerator}/{result.denominator}",
                "events": len(events),
                "content_hash": digest,
                "sha256": bc._sha256(target),
            }
        )
    for stale in sorted(out.glob("*.mid")):
        if stale not in written:
            stale.unlink()
    bc._write_csv(out / "MANIFEST.csv", MANIFEST_FIELDS, manifest)
    bc._write_csv(
        out / "DUPLICATES.csv", ("source", "title", "content_hash", "duplicate_of"), duplicates
    )
    bc._write_csv(out / "SKIPPED.csv", ("source", "reason"), skipped)
    report.seconds = time.perf_counter() - began
    return report


def _soprano_line(chorale: Chorale) -> list[Note]:
    from improviser.music.notes import skyline

    return skyline(chorale.parts[0])


def _events(chorale: Chorale) -> list[Any]:
    return events_from_parts(*chorale.parts, beats_per_bar=chorale.beats_per_bar)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=Path("samples/chorales"))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    root = bc.corpus_root()
    report = build(sources(root), args.out, root=root, workers=args.workers)
    skipped = sum(report.skipped.values())
    print(
        f"{report.chorales} chorales, {report.events} soprano onsets, {skipped} skipped "
        f"{report.skipped}, {report.duplicates} duplicates, {report.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
