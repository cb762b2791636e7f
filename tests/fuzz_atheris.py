"""Coverage-guided fuzzing (atheris) of the MIDI reader and the model loader.

Not collected by pytest (the name does not start with ``test_``) and not needed by CI:
atheris is installed by hand (``pip install atheris``). Each target writes the fuzzer's
bytes to a file and reads it the way the package does; anything but the
package's own one-line error, naming the file, is a crash that libFuzzer saves as
``crash-<sha1>`` in the working directory. Run one target for three minutes::

    python -m tests.fuzz_atheris midi  -max_total_time=180 -timeout=10 -max_len=16384 CORPUS
    python -m tests.fuzz_atheris model -max_total_time=180 -timeout=10 -max_len=16384 CORPUS

from the repository root (instrumenting every loaded module first takes about 30 s).
``CORPUS`` (a directory, created if absent) keeps the inputs that found new coverage; it
is seeded with the valid files of ``tests/fuzz_seeds.py``. Targets:

- ``midi``: :func:`improviser.music.notes.read_midi`, then the melody and its tokens, as
  the corpus reader and ``generate --seed`` use them;
- ``model``: the first byte picks the ``.npz`` weights (:func:`load_weights`, then one step
  of the NumPy engine) or the ``.json`` metadata (:func:`read_metadata`, then the data
  config). Keras' own ``.keras`` loader is left out: it needs TensorFlow per input.

Inputs are written to ``/dev/shm/improviser-fuzz-<uid>/input.*`` (one directory, reused;
run one target at a time). Replay a crash with
``python -m tests.fuzz_atheris TARGET crash-<sha1>``, then add it to ``tests/test_fuzz.py``
as a regression case.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import atheris

from improviser.errors import ImproviserError, MidiFileError, ModelError
from improviser.inference.modelfile import load_weights, metadata_data_config, read_metadata
from improviser.inference.numpy_engine import NumpyEngine
from improviser.music.encoding import encode
from improviser.music.midi_read import read_midi
from improviser.music.notes import extract_melody
from tests.fuzz_seeds import META, MIDI, NPZ, NPZ_COMPRESSED

# libFuzzer ends the process without running Python's exit hooks, so a temporary
# directory would be left behind: one fixed directory, reused by every run, instead.
_SCRATCH = Path("/dev/shm") / f"improviser-fuzz-{os.getuid()}"


def _expect(error: type[ImproviserError], path: Path, action: Callable[[], object]) -> None:
    try:
        action()
    except error as exc:
        message = str(exc)
        if not message.startswith(str(path)) or "\n" in message:
            raise AssertionError(f"not one line naming the file: {message!r}") from exc


def fuzz_midi(data: bytes) -> None:
    """Read ``data`` as a MIDI file; only a MidiFileError may come out."""
    path = _SCRATCH / "input.mid"
    path.write_bytes(data)

    def read() -> None:
        encode(extract_melody(read_midi(path).notes))

    _expect(MidiFileError, path, read)


def fuzz_model(data: bytes) -> None:
    """Read ``data[1:]`` as weights or metadata (by ``data[0]``); only a ModelError may come out."""
    if not data:
        return
    if data[0] & 1:
        path = _SCRATCH / "input.json"
        path.write_bytes(data[1:])
        _expect(ModelError, path, lambda: metadata_data_config(read_metadata(path), path))
    else:
        path = _SCRATCH / "input.npz"
        path.write_bytes(data[1:])
        _expect(ModelError, path, lambda: NumpyEngine(load_weights(path)).step((60, 1, 1, 4)))


TARGETS: dict[str, tuple[Callable[[bytes], None], list[bytes]]] = {
    "midi": (fuzz_midi, [MIDI]),
    "model": (fuzz_model, [b"\0" + NPZ, b"\0" + NPZ_COMPRESSED, b"\1" + META]),
}


def main() -> None:
    """``fuzz_atheris.py TARGET [libFuzzer options] [CORPUS_DIR | crash file]``."""
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(TARGETS)}}} [libFuzzer options] [CORPUS]")
    target, seeds = TARGETS[sys.argv[1]]
    _SCRATCH.mkdir(exist_ok=True)
    argv = [sys.argv[0], *sys.argv[2:]]
    for arg in argv[1:]:
        corpus = Path(arg)
        if not arg.startswith("-") and (corpus.is_dir() or not corpus.exists()):
            corpus.mkdir(parents=True, exist_ok=True)
            for i, seed in enumerate(seeds):
                (corpus / f"seed-{i}").write_bytes(seed)
    # Everything loaded so far (improviser, mido, zipfile, numpy's .npy reader, json)
    # reports coverage, so the fuzzer learns the structure of each format.
    atheris.instrument_all()
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
