"""Damaged files are one-line errors of the package, never anything else.

Property tests (hypothesis) feed the MIDI reader, the weights and metadata loaders and
the config loader random bytes and mutations of a valid file (cut short, bytes changed,
bytes inserted); each must return or raise its own error (``MidiFileError``,
``ModelError``, ``ConfigError``) whose message is one line starting with the file's path.
Every prefix of a small valid file is tried too. Below them, one regression case for each
fault the coverage-guided fuzzer (``tests/fuzz_atheris.py``) or a review found.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from improviser.config import DEFAULT_CONFIG_PATH, Config, load_config
from improviser.errors import ConfigError, ImproviserError, MidiFileError, ModelError
from improviser.inference import NumpyEngine, archive, modelfile, random_weights, write_weights
from improviser.inference.modelfile import (
    load_model,
    load_weights,
    metadata_data_config,
    read_metadata,
    weight_arrays,
)
from improviser.music.encoding import VOCAB_SIZES
from improviser.music.midi_read import read_midi
from improviser.music.notes import Score
from tests.fuzz_seeds import META, MIDI, NPZ, NPZ_COMPRESSED

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def mutations(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` cut short, with bytes changed or inserted, or random bytes."""
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "random", "several"]))
    data = bytearray(original)
    if kind == "random":
        return draw(st.binary(max_size=2 * len(original)))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    for _ in range(draw(st.integers(1, 8)) if kind == "several" else 1):
        at = draw(st.integers(0, len(data) - 1))
        if kind == "insert" or draw(st.booleans()):
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            data[at] = draw(st.integers(0, 255))
    return bytes(data)


def assert_one_line(exc: ImproviserError, path: Path) -> None:
    """The message names the file first and fits on one line."""
    message = str(exc)
    assert message.startswith(str(path)), message
    assert "\n" not in message, message


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check_midi(path: Path, data: bytes) -> None:
    """Reading ``data`` gives a score or a one-line MidiFileError, nothing else."""
    path.write_bytes(data)
    try:
        score = read_midi(path)
    except MidiFileError as exc:
        assert_one_line(exc, path)
    else:
        assert isinstance(score, Score)
        assert all(0 <= n.pitch <= 127 and n.duration >= 0 for n in score.notes)


def check_weights(path: Path, data: bytes) -> None:
    """Loading ``data`` gives weights an engine can step, or a one-line ModelError."""
    path.write_bytes(data)
    try:
        weights = load_weights(path)
    except ModelError as exc:
        assert_one_line(exc, path)
    else:
        NumpyEngine(weights).step((60, 1, 1, 4))


def check_metadata(path: Path, data: bytes) -> None:
    """Reading ``data`` gives metadata whose data config validates, or a one-line ModelError."""
    path.write_bytes(data)
    try:
        meta = read_metadata(path)
        metadata_data_config(meta, path)
    except ModelError as exc:
        assert_one_line(exc, path)


def check_config(path: Path, data: bytes) -> None:
    """Loading ``data`` gives a Config or a one-line ConfigError."""
    path.write_bytes(data)
    try:
        assert isinstance(load_config(path), Config)
    except ConfigError as exc:
        assert_one_line(exc, path)


TOML = DEFAULT_CONFIG_PATH.read_bytes()


def test_the_valid_files_are_valid(workdir: Path) -> None:
    (workdir / "v.mid").write_bytes(MIDI)
    assert len(read_midi(workdir / "v.mid").notes) == 18
    for data in (NPZ, NPZ_COMPRESSED):
        (workdir / "v.npz").write_bytes(data)
        assert load_weights(workdir / "v.npz").recurrents[0].shape == (1, 4)
    (workdir / "v.json").write_bytes(META)
    assert metadata_data_config(read_metadata(workdir / "v.json"), workdir / "v.json").window == 30


@FUZZ
@given(data=mutations(MIDI))
def test_midi_reader_raises_only_midi_file_error(workdir: Path, data: bytes) -> None:
    check_midi(workdir / "m.mid", data)


@FUZZ
@given(data=st.one_of(mutations(NPZ), mutations(NPZ_COMPRESSED)))
def test_weights_loader_raises_only_model_error(workdir: Path, data: bytes) -> None:
    check_weights(workdir / "w.npz", data)


@FUZZ
@given(data=mutations(META))
def test_metadata_reader_raises_only_model_error(workdir: Path, data: bytes) -> None:
    check_metadata(workdir / "m.json", data)


@FUZZ
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=8,
    ),
    key=st.sampled_from(["window", "config", "corpus", "scaler", "history", "objective"]),
    inner=st.sampled_from(["data", "train_files", "min", "loss", "window"]),
)
def test_metadata_of_the_wrong_types_is_a_model_error(
    workdir: Path, value: object, key: str, inner: str
) -> None:
    meta = json.loads(META)
    if isinstance(meta.get(key), dict):
        meta[key][inner] = value
    else:
        meta[key] = value
    check_metadata(workdir / "t.json", json.dumps(meta).encode())


@FUZZ
@given(data=mutations(TOML))
def test_config_loader_raises_only_config_error(workdir: Path, data: bytes) -> None:
    check_config(workdir / "c.toml", data)


@pytest.mark.parametrize(
    ("original", "name", "check"),
    [
        (MIDI, "p.mid", check_midi),
        (NPZ, "p.npz", check_weights),
        (NPZ_COMPRESSED, "p.npz", check_weights),
        (META, "p.json", check_metadata),
    ],
    ids=["midi", "npz", "npz-compressed", "json"],
)
def test_every_prefix_is_a_one_line_error(
    workdir: Path, original: bytes, name: str, check: Callable[[Path, bytes], None]
) -> None:
    for length in range(len(original)):
        check(workdir / name, original[:length])


# Regression cases: one per fault found by fuzzing or review.


def midi_with(*messages: mido.Message | mido.MetaMessage, ticks_per_beat: int = 480) -> bytes:
    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    mid.tracks.append(mido.MidiTrack(messages))
    buffer = io.BytesIO()
    mid.save(file=buffer)
    return buffer.getvalue()


def raw_midi(track: bytes) -> bytes:
    """A type-0 file around the raw bytes of one track (events that mido will not write)."""
    header = b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1, 1, 0xE0])
    return header + b"MTrk" + len(track).to_bytes(4, "big") + track


NOTE = (mido.Message("note_on", note=60, velocity=64), mido.Message("note_off", note=60, time=9))
END = b"\x00\xff\x2f\x00"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (midi_with(mido.MetaMessage("set_tempo", tempo=0), *NOTE), "tempo of 0"),
        (MIDI[:12] + b"\xe7\x28" + MIDI[14:], "SMPTE time division"),
        (MIDI[:12] + b"\x00\x00" + MIDI[14:], "ticks per beat must be positive"),
        (b"MThd\x00\x00\x00\x06\x00\x01", "not a readable MIDI file"),
        (b"", "not a readable MIDI file"),
        (raw_midi(b"\x00\xff\x59\x02\x09\x27" + END), "Could not decode key with 9 sharps"),
    ],
    ids=["tempo-zero", "smpte", "zero-division", "cut-header", "empty", "key-signature"],
)
def test_midi_faults(workdir: Path, data: bytes, message: str) -> None:
    path = workdir / "r.mid"
    path.write_bytes(data)
    with pytest.raises(MidiFileError, match=message) as info:
        read_midi(path)
    assert_one_line(info.value, path)


def npz_of(arrays: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _replace(name: str, value: Any) -> bytes:
    arrays = weight_arrays(random_weights((1,), 1))
    arrays[name] = value
    return npz_of(arrays)


def _zip_version_too_new(data: bytes) -> bytes:
    out = bytearray(data)
    at = out.index(b"PK\x01\x02")
    out[at + 6 : at + 8] = b"\xff\x00"  # "version needed to extract" of the first member
    return bytes(out)


def _huge_declared_shape() -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (1 << 40,)}
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("emb_pitch.npy", header.getvalue() + b"\0" * 64)
    return buffer.getvalue()


def _npy_header(text: bytes) -> bytes:
    """A version-1.0 ``.npy`` file with ``text`` as its (padded) header and no data."""
    header = text + b" " * (63 - 10 - len(text)) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def _member(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_zip_version_too_new(NPZ), "corrupt or truncated weights file .zip file version"),
        (_replace("emb_pitch", np.zeros(VOCAB_SIZES["pitch"], np.float32)), "not 2-D"),
        (_replace("lstm_0_recurrent", np.float32(1.0)), "LSTM layer 0"),
        (_replace("emb_ioi", np.array(["x"] * VOCAB_SIZES["ioi"])), "not numbers"),
        (_replace("emb_ioi", np.ones((VOCAB_SIZES["ioi"], 1), np.complex64)), "not numbers"),
        (_replace("head_pitch_bias", np.full(VOCAB_SIZES["pitch"], 1e300)), "NaN or infinity"),
        (_replace("lstm_0_bias", np.array([np.nan] * 4, np.float32)), "NaN or infinity"),
        (_huge_declared_shape(), "larger than its data"),
        (_member("notes.txt", b"hello"), "unexpected member"),
        (_member("a.npy", b"\x93NUMPY\x03\x00" + b"\0" * 20), "unsupported .npy version"),
        (b"PK\x05\x06" + b"\0" * 18, "lacks array"),
        (_member("emb_pitch.npy", _npy_header(b"{'descr': (")), "EOF in multi-line"),
    ],
    ids=[
        "zip-version",
        "1-d-embedding",
        "0-d-recurrent",
        "strings",
        "complex",
        "overflow",
        "nan",
        "huge-shape",
        "not-npy",
        "npy-v3",
        "empty-zip",
        "npy-header-unclosed",
    ],
)
def test_weights_faults(workdir: Path, data: bytes, message: str) -> None:
    path = workdir / "r.npz"
    path.write_bytes(data)
    with pytest.raises(ModelError, match=message) as info:
        load_weights(path)
    assert_one_line(info.value, path)


def test_zero_unit_lstm_is_refused(workdir: Path) -> None:
    path = workdir / "zero.npz"
    write_weights(random_weights((0,), 1), path)
    with pytest.raises(ModelError, match="LSTM layer 0 has inconsistent shapes"):
        load_weights(path)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workdir / "bomb.npz"
    path.write_bytes(NPZ_COMPRESSED)
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", 100)
    with pytest.raises(ModelError, match=r"unpacks to \d+ bytes, more than the 100 ") as info:
        load_weights(path)
    assert_one_line(info.value, path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 5000 + "]" * 5000, "corrupt model metadata"),
        ("[1, 2]", "not improviser model metadata"),
        ('{"objective": "magic"}', "unknown objective 'magic'"),
        ('{"objective": 3}', "'objective' must be str, got int"),
        ('{"objective": "classes", "config": []}', "'config' must be an object, got list"),
        ('{"objective": "classes", "config": {"data": 1}}', "'config.data' must be an object"),
        ('{"objective": "classes", "corpus": {"train_files": "a"}}', "list of str"),
        ('{"objective": "regression", "window": true}', "'window' must be int, got bool"),
        ('{"objective": "regression", "scaler": {"min": "0"}}', "'scaler.min' must be float"),
    ],
    ids=[
        "deep",
        "list",
        "objective",
        "objective-type",
        "config",
        "config-data",
        "train-files",
        "window-bool",
        "scaler",
    ],
)
def test_metadata_faults(workdir: Path, text: str, message: str) -> None:
    path = workdir / "r.json"
    path.write_text(text)
    with pytest.raises(ModelError, match=message) as info:
        read_metadata(path)
    assert_one_line(info.value, path)


def test_metadata_data_config_of_the_wrong_value_is_a_model_error(workdir: Path) -> None:
    path = workdir / "d.json"
    path.write_text('{"objective": "classes", "config": {"data": {"window": -1}}}')
    with pytest.raises(ModelError, match=r"config key 'config\.data\.window'") as info:
        metadata_data_config(read_metadata(path), path)
    assert_one_line(info.value, path)


def test_metadata_too_large_and_not_utf8(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = workdir / "big.json"
    path.write_bytes(META)
    monkeypatch.setattr(modelfile, "MAX_METADATA_BYTES", 10)
    with pytest.raises(ModelError, match="larger than the 10 bytes"):
        read_metadata(path)
    monkeypatch.undo()
    path.write_bytes(b'{"objective": "\xff"}')
    with pytest.raises(ModelError, match="corrupt model metadata"):
        read_metadata(path)


def test_keras_file_cut_short_is_a_model_error(workdir: Path) -> None:
    """A ``.keras`` cut short fails before Keras (or TensorFlow) is touched."""
    from improviser.paths import DEFAULT_MODEL

    path = workdir / "cut.keras"
    path.write_bytes(DEFAULT_MODEL.read_bytes()[:5000])
    path.with_suffix(".json").write_bytes(DEFAULT_MODEL.with_suffix(".json").read_bytes())
    with pytest.raises(ModelError, match="not a Keras model file") as info:
        load_model(path)
    assert_one_line(info.value, path)


@pytest.fixture
def directories(workdir: Path) -> Iterator[Path]:
    """A directory named like each kind of file."""
    root = workdir / "dirs"
    for name in ("d.mid", "d.npz", "d.json", "d.keras", "d.toml"):
        (root / name).mkdir(parents=True, exist_ok=True)
    yield root


@pytest.mark.parametrize(
    ("name", "read", "error"),
    [
        ("d.mid", read_midi, MidiFileError),
        ("d.npz", load_weights, ModelError),
        ("d.json", read_metadata, ModelError),
        ("d.keras", load_model, ModelError),
        ("d.toml", load_config, ConfigError),
    ],
)
def test_a_directory_instead_of_a_file(
    directories: Path, name: str, read: Callable[[Path], object], error: type[Exception]
) -> None:
    path = directories / name
    with pytest.raises(error, match="Is a directory") as info:
        read(path)
    assert isinstance(info.value, ImproviserError)
    assert_one_line(info.value, path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
@pytest.mark.parametrize(
    ("data", "read", "error"),
    [
        (MIDI, read_midi, MidiFileError),
        (NPZ, load_weights, ModelError),
        (META, read_metadata, ModelError),
        (TOML, load_config, ConfigError),
    ],
)
def test_an_unreadable_file(
    workdir: Path, data: bytes, read: Callable[[Path], object], error: type[Exception]
) -> None:
    suffix = {read_midi: ".mid", load_weights: ".npz", read_metadata: ".json"}.get(read, ".toml")
    path = workdir / f"locked{suffix}"
    path.write_bytes(data)
    path.chmod(0)
    try:
        with pytest.raises(error, match="Permission denied") as info:
            read(path)
        assert_one_line(info.value, path)  # type: ignore[arg-type]
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a = " + b"[" * 5000 + b"]" * 5000, "not valid TOML"),
        (b'[train]\nepochs = "\xff"\n', "not UTF-8"),
        (b"[train]\nepochs = -3\n", "config key 'train.epochs'"),
        (b'[generate]\nnotes = "' + b"x" * 500 + b'"\n', r"\(got 'xxx.*…\)$"),
    ],
    ids=["deep", "not-utf8", "value", "long-value"],
)
def test_config_faults(workdir: Path, data: bytes, message: str) -> None:
    path = workdir / "r.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert_one_line(info.value, path)


def test_a_huge_config_is_refused(workdir: Path) -> None:
    path = workdir / "huge.toml"
    path.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")
    with pytest.raises(ConfigError, match="larger than") as info:
        load_config(path)
    assert_one_line(info.value, path)


def test_a_seed_too_fast_to_write_is_a_midi_file_error(workdir: Path) -> None:
    from improviser.config import GenerateConfig
    from improviser.inference.generate import generate
    from improviser.paths import DEFAULT_MODEL

    seed = workdir / "fast.mid"
    seed.write_bytes(midi_with(mido.MetaMessage("set_tempo", tempo=1), *NOTE))
    with pytest.raises(MidiFileError, match="faster than the 1000 bpm") as info:
        generate(DEFAULT_MODEL, seed, workdir / "out.mid", GenerateConfig())
    assert_one_line(info.value, seed)
    assert not (workdir / "out.mid").exists()
