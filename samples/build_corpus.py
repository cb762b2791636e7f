# music21 and rich are imported inside functions so that importing this module stays cheap.
# ruff: noqa: PLC0415
"""Build the training corpus: public-domain folk melodies from music21's ABC collections.

Run it as ``python samples/build_corpus.py --out samples/corpus``. Each tune (``X:``
number) of Ryan's Mammoth Collection (1883) and O'Neill's Music of Ireland (1903, whose
1,850 tunes give music21's folder its name), as shipped inside the music21 package,
becomes one monophonic ``.mid`` file:

- ABC is parsed with ABC 2.1 rules, so an accidental carries to the end of its bar
  (music21 would otherwise apply ABC 1.3 rules and get 0.2-0.3 % of pitches wrong here);
- the melody is the top note of each chord, ties merged, grace notes and chord symbols
  left out, repeats expanded where music21 can (the written form otherwise), a bare
  ``:|`` repeating only its own section;
- velocity is 80, 92 on the first note of a bar (a small, deterministic accent);
- the tempo is the tune's ``Q:`` mark, else 120 bpm;
- tunes that fail to parse or have fewer than 16 notes are skipped and listed;
- a tune whose content (intervals and normalised inter-onset intervals) was already seen
  is dropped as a duplicate and listed: transposed copies count as duplicates; so is a
  second transcription of the same numbered tune of O'Neill's.

The output is deterministic: the same music21 corpus gives the same bytes. The Essen
folksong collection is reserved for independent evaluation and is refused outright.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from improviser.music.midi_write import write_midi
from improviser.music.notes import Note

COLLECTIONS = ("ryansMammoth", "oneills1850")
"""music21 corpus folders used, in priority order (the first copy of a tune is kept)."""
BOOK_NUMBERED = frozenset({"oneills1850"})
"""Collections whose X numbers are the book's tune numbers. Their files overlap (two
transcriptions of tunes 732-758, say): a number seen before is a duplicate even where the
transcriptions differ (one writes the repeats out, one has a typo)."""
ABC_VERSION = (2, 1, 0)
MIN_NOTES = 16
MAX_EXPANSION = 4
"""Expanded repeats longer than this many times the written tune are not trusted."""
DEFAULT_BPM = 120.0
VELOCITY = 80
DOWNBEAT_VELOCITY = 92
MANIFEST_FIELDS = (
    "file",
    "collection",
    "source_file",
    "x",
    "title",
    "notes",
    "content_hash",
    "sha256",
)


class ExcludedSourceError(ValueError):
    """A source that must never enter the training corpus was given."""


ESSEN = re.compile(r"essen(?!ce)", re.IGNORECASE)
"""Any path matching this is refused. "Essence" is let through: Ryan's Mammoth has an
"Essence of Cinnamon Seed", which a bare "essen" test would throw out."""


def check_source(path: str | Path) -> None:
    """Refuse any path of the Essen collection, which is kept for independent evaluation.

    Raises :class:`ExcludedSourceError` for a path that contains "essen" (but not as part
    of the word "essence").
    """
    if ESSEN.search(str(path)):
        raise ExcludedSourceError(
            f"{path}: the Essen folksong collection is reserved for evaluation; "
            "it must not be used for training"
        )


@dataclass(frozen=True, slots=True)
class TuneSource:
    """One tune's ABC text and where it came from."""

    collection: str
    source_file: str
    """Path relative to the collection's parent folder, e.g. ``ryansMammoth/Foo.abc``."""
    x: int
    text: str

    @property
    def stem(self) -> str:
        """The output file name (without folder): ``<collection>-<file stem>-<X>.mid``."""
        return f"{self.collection}-{Path(self.source_file).stem}-{self.x}.mid"


@dataclass(frozen=True, slots=True)
class Tune:
    """A parsed melody."""

    source: TuneSource
    title: str
    bpm: float
    notes: tuple[Note, ...]
    expanded: bool
    """Whether repeats were expanded (False: the written form: the tune has no repeats, or
    music21 failed to expand them or made it implausibly long)."""


@dataclass(slots=True)
class BuildReport:
    """What a build produced and what it left out."""

    tunes: int = 0
    notes: int = 0
    expanded: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    """Skipped tunes by reason."""
    duplicates: int = 0
    seconds: float = 0.0
    bytes: int = 0


def corpus_root() -> Path:
    """The folder of music21's bundled corpus."""
    from music21 import common

    return Path(common.getCorpusFilePath())


def split_tunes(text: str) -> list[tuple[int, str]]:
    """Split an ABC file into ``(X number, tune text)``; the file header goes to each tune."""
    header: list[str] = []
    tunes: list[tuple[int, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("X:"):
            tunes.append((int(line[2:].strip()), [line]))
        elif tunes:
            tunes[-1][1].append(line)
        else:
            header.append(line)
    return [(x, "\n".join([*header, *lines]) + "\n") for x, lines in tunes]


def read_sources(collections: Mapping[str, Sequence[Path]], root: Path) -> list[TuneSource]:
    """Every tune of the given ABC files, in collection, file and file order."""
    sources: list[TuneSource] = []
    for collection, paths in collections.items():
        check_source(collection)
        for path in sorted(paths):
            check_source(path.resolve())
            text = path.read_text(encoding="utf-8")
            rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
            sources.extend(TuneSource(collection, rel, x, body) for x, body in split_tunes(text))
    return sources


def _bar_length(measure: Any) -> Fraction:
    try:
        return Fraction(measure.barDuration.quarterLength)
    except Exception:  # no time signature in context
        return Fraction(measure.duration.quarterLength)


def melody(part: Any, bpm: float) -> list[Note]:
    """The monophonic melody of a music21 part (measures, ties already merged).

    The top note of a chord is kept; grace notes and chord symbols are left out. A note
    starting a bar gets the downbeat accent, where a bar counts as starting on a downbeat
    unless it is a pickup (left-padded, or shorter than half a bar).
    """
    from music21 import harmony, stream

    measures = list(part.getElementsByClass(stream.Measure))
    groups: list[tuple[Fraction, bool, Iterable[Any]]]
    if measures:
        groups = []
        for m in measures:
            length = Fraction(m.duration.quarterLength)
            pickup = m.paddingLeft > 0 or length * 2 < _bar_length(m)
            groups.append((Fraction(m.offset), not pickup, m.flatten().notes))
    else:
        groups = [(Fraction(0), False, part.flatten().notes)]
    sec_per_beat = 60.0 / bpm
    notes: list[Note] = []
    last_end = Fraction(0)
    for offset, downbeat, elements in groups:
        for el in elements:
            length = Fraction(el.quarterLength)
            if isinstance(el, harmony.Harmony) or length <= 0 or el.duration.isGrace:
                continue
            start = offset + Fraction(el.offset)
            if start < last_end:  # a second voice or overlap: keep the line monophonic
                continue
            pitch = max(p.midi for p in el.pitches)
            velocity = DOWNBEAT_VELOCITY if downbeat and el.offset == 0 else VELOCITY
            notes.append(
                Note(
                    pitch=pitch,
                    velocity=velocity,
                    start=float(start) * sec_per_beat,
                    duration=float(length) * sec_per_beat,
                    start_beats=float(start),
                    duration_beats=float(length),
                )
            )
            last_end = start + length
    return notes


def parse_tune(source: TuneSource) -> Tune:
    """Parse one tune's ABC text (ABC 2.1 rules) into its melody.

    Raises whatever music21 raises for ABC it cannot read.
    """
    from music21 import abcFormat, spanner, tempo
    from music21.abcFormat import translate

    check_source(source.source_file)
    handler = abcFormat.ABCFile(abcVersion=ABC_VERSION).readstr(source.text)
    score: Any = translate.abcToStreamScore(handler)  # type: ignore[no-untyped-call]
    title = (score.metadata.title if score.metadata else None) or ""
    bpm = DEFAULT_BPM
    marks = score.flatten().getElementsByClass(tempo.MetronomeMark)
    if marks:
        quarter_bpm = marks[0].getQuarterBPM()
        if quarter_bpm and 0 < quarter_bpm <= 1000:
            bpm = round(float(quarter_bpm), 3)
    part = score.parts[0]
    # Slurs and the like play no part here, and music21 copies them note by note in
    # expandRepeats and stripTies (22 s instead of 2 s for a long tune).
    for sp in list(part.recurse().getElementsByClass(spanner.Spanner)):
        if not isinstance(sp, spanner.RepeatBracket):
            sp.activeSite.remove(sp)
    written = melody(part.stripTies(), bpm)
    try:
        add_implied_repeat_starts(part)
        notes = melody(part.expandRepeats().stripTies(), bpm)
    except Exception:  # music21 raises several kinds for inconsistent repeat marks
        notes = []
    expanded = len(written) < len(notes) <= MAX_EXPANSION * len(written)
    return Tune(source, title, bpm, tuple(notes if expanded else written), expanded)


def add_implied_repeat_starts(part: Any) -> int:
    """Mark the start repeat that each bare end repeat (``:|``) implies; return how many.

    In these collections a ``:|`` with no ``|:`` before it repeats back to just after the
    previous ``:|`` (first-ending bars aside). music21 instead repeats from the very
    beginning each time: one seven-part tune came out with 12,146 notes instead of 688,
    after two minutes.
    """
    from music21 import bar, spanner, stream

    measures = list(part.getElementsByClass(stream.Measure))
    in_endings = {
        id(m)
        for bracket in part.spannerBundle.getByClass(spanner.RepeatBracket)
        for m in bracket.getSpannedElements()
    }
    added = 0
    section: Any = None  # first bar after the last end repeat, endings skipped
    opened = False
    for m in measures:
        if section is None and not opened and id(m) not in in_endings:
            section = m
        left, right = m.leftBarline, m.rightBarline
        if isinstance(left, bar.Repeat) and left.direction == "start":
            opened = True
        if isinstance(right, bar.Repeat) and right.direction == "end":
            if not opened and section is not None and section is not measures[0]:
                section.leftBarline = bar.Repeat(direction="start")
                added += 1
            opened = False
            section = None
    return added


def _parse_or_error(source: TuneSource) -> Tune | str:
    try:
        return parse_tune(source)
    except Exception as exc:  # a tune music21 cannot read is counted, not fatal
        return f"parse error: {type(exc).__name__}"


def content_hash(notes: Sequence[Note]) -> str:
    """A key that two copies of one tune share, whatever their key or note values.

    Built from the pitch-interval sequence and the inter-onset intervals divided by the
    tune's most common one (so a tune written in halved note values matches too).
    """
    intervals = [b.pitch - a.pitch for a, b in itertools.pairwise(notes)]
    iois = [
        Fraction(b.start_beats - a.start_beats).limit_denominator(96)
        for a, b in itertools.pairwise(notes)
    ]
    unit = Counter(iois).most_common(1)[0][0] if iois else Fraction(1)
    rhythm = [round(float(ioi / unit), 3) if unit else 0.0 for ioi in iois]
    text = repr((intervals, rhythm))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _midi_text(title: str) -> str:
    # MIDI meta text is Latin-1 in mido; the manifest keeps the full title.
    return title.encode("latin-1", "replace").decode("latin-1")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _progress(enabled: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed or 0:.1f} tunes/s")

    return Progress(
        TextColumn("parsing"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
    )


def build(
    collections: Mapping[str, Sequence[Path]],
    out: Path,
    *,
    root: Path | None = None,
    workers: int = 2,
    progress: bool = False,
) -> BuildReport:
    """Build the corpus of ``collections`` (name -> ABC files) under ``out``.

    Writes ``out/<collection>/<collection>-<file stem>-<X>.mid`` for every tune kept,
    ``MANIFEST.csv``, ``DUPLICATES.csv`` and ``SKIPPED.csv``; removes ``.mid`` files
    left in those folders by an earlier build. Raises :class:`ExcludedSourceError` for
    an Essen path.
    """
    began = time.perf_counter()
    root = root if root is not None else corpus_root()
    sources = read_sources(collections, root)
    report = BuildReport()
    results: list[Tune | str] = []
    with _progress(progress) as bar:
        task = bar.add_task("parse", total=len(sources))
        if workers > 1 and len(sources) > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for result in pool.map(_parse_or_error, sources, chunksize=4):
                    results.append(result)
                    bar.advance(task)
        else:
            for source in sources:
                results.append(_parse_or_error(source))
                bar.advance(task)

    seen: dict[str, str] = {}
    manifest: list[dict[str, object]] = []
    duplicates: list[dict[str, object]] = []
    skipped: list[dict[str, object]] = []
    written: set[Path] = set()
    for source, parsed in zip(sources, results, strict=True):
        result = parsed
        if isinstance(result, Tune) and len(result.notes) < MIN_NOTES:
            result = f"fewer than {MIN_NOTES} notes"
        if isinstance(result, str):
            report.skipped[result] = report.skipped.get(result, 0) + 1
            skipped.append(
                {
                    "collection": source.collection,
                    "source_file": source.source_file,
                    "x": source.x,
                    "reason": result,
                }
            )
            continue
        digest = content_hash(result.notes)
        rel = f"{source.collection}/{source.stem}"
        book = f"{source.collection} #{source.x}" if source.collection in BOOK_NUMBERED else ""
        first = seen.get(digest) or seen.get(book)
        if first is not None:
            report.duplicates += 1
            duplicates.append(
                {
                    "collection": source.collection,
                    "source_file": source.source_file,
                    "x": source.x,
                    "title": result.title,
                    "content_hash": digest,
                    "reason": "content" if digest in seen else "book number",
                    "duplicate_of": first,
                }
            )
            continue
        seen[digest] = rel
        if book:
            seen[book] = rel
        path = out / rel
        write_midi(path, [result.notes], bpm=result.bpm, names=[_midi_text(result.title)])
        written.add(path)
        report.tunes += 1
        report.notes += len(result.notes)
        report.expanded += result.expanded
        report.bytes += path.stat().st_size
        manifest.append(
            {
                "file": rel,
                "collection": source.collection,
                "source_file": source.source_file,
                "x": source.x,
                "title": result.title,
                "notes": len(result.notes),
                "content_hash": digest,
                "sha256": _sha256(path),
            }
        )
    for collection in collections:
        for stale in sorted((out / collection).glob("*.mid")):
            if stale not in written:
                stale.unlink()
    _write_csv(out / "MANIFEST.csv", MANIFEST_FIELDS, manifest)
    _write_csv(
        out / "DUPLICATES.csv",
        ("collection", "source_file", "x", "title", "content_hash", "reason", "duplicate_of"),
        duplicates,
    )
    _write_csv(out / "SKIPPED.csv", ("collection", "source_file", "x", "reason"), skipped)
    report.seconds = time.perf_counter() - began
    return report


def _write_csv(path: Path, fields: Sequence[str], rows: Iterable[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def default_collections(root: Path) -> dict[str, list[Path]]:
    """The ABC files of :data:`COLLECTIONS` in music21's corpus folder ``root``."""
    return {name: sorted((root / name).glob("*.abc")) for name in COLLECTIONS}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=Path("samples/corpus"))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    root = corpus_root()
    report = build(
        default_collections(root), args.out, root=root, workers=args.workers, progress=True
    )
    skipped = sum(report.skipped.values())
    print(
        f"{report.tunes} tunes, {report.notes} notes ({report.expanded} with repeats "
        f"expanded), {skipped} skipped{f' {report.skipped}' if skipped else ''}, "
        f"{report.duplicates} "
        f"duplicates, {report.bytes / 1e6:.2f} MB of MIDI, {report.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
