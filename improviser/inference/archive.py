"""Zip archives of a model (``.keras``, ``.npz``), opened with bounds on what they unpack.

A damaged or hostile archive must cost neither memory nor a traceback: the members'
declared sizes are summed before anything is unpacked, and each ``.npy`` header is checked
against the bytes its member holds before an array is allocated for it. What zipfile,
zlib or NumPy raise for a damaged archive is one of :data:`ARCHIVE_ERRORS`, which
:mod:`improviser.inference.modelfile` turns into a one-line ``ModelError``.
"""

from __future__ import annotations

import lzma
import math
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy

from improviser.errors import ModelError
from improviser.inference.weights import F32

__all__ = ["ARCHIVE_ERRORS", "MAX_ARCHIVE_BYTES", "check_archive", "read_npz"]

MAX_ARCHIVE_BYTES = 1 << 30
"""The most bytes a model archive may unpack to (the bundled model: about 5 MB)."""

ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # also zipfile.LargeZipFile's cousins and bz2 faults
    EOFError,
    ValueError,  # bad .npy magic or header, a shape that does not fit
    KeyError,
    RuntimeError,  # NotImplementedError (unknown zip version or method), encrypted member
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    tokenize.TokenError,  # NumPy's fallback parser of an old-style .npy header
)
"""What the standard library and NumPy raise for a damaged archive."""

_NUMERIC_KINDS = "biuf"


def check_archive(zf: zipfile.ZipFile, path: Path) -> list[zipfile.ZipInfo]:
    """The members of ``zf``, once their declared sizes are known to be within bounds."""
    members = zf.infolist()
    total = sum(info.file_size for info in members)
    if total > MAX_ARCHIVE_BYTES:
        raise ModelError(
            f"{path}: unpacks to {total} bytes, more than the {MAX_ARCHIVE_BYTES} "
            "a model file may hold"
        )
    return members


def read_npz(path: Path) -> dict[str, F32]:
    """Every array of a ``.npz`` file as float32, by name; no pickle, no unbounded allocation.

    Raises :class:`ModelError` for an archive whose content is wrong (a member that is not
    an array, an array that is not numbers or not finite, a shape larger than its data);
    the library errors of a damaged archive (:data:`ARCHIVE_ERRORS`) pass through.
    """
    arrays: dict[str, F32] = {}
    with zipfile.ZipFile(path) as zf:
        for info in check_archive(zf, path):
            name = info.filename.removesuffix(".npy")
            if name == info.filename or name in arrays:
                raise ModelError(f"{path}: unexpected member {info.filename!r}")
            with zf.open(info) as member:
                arrays[name] = _read_npy(member, info.file_size, path, name)
    return arrays


def _read_npy(member: IO[bytes], size: int, path: Path, name: str) -> F32:
    version = npy.read_magic(member)
    if version == (1, 0):
        shape, fortran, dtype = npy.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, fortran, dtype = npy.read_array_header_2_0(member)
    else:
        raise ModelError(f"{path}: array {name!r} has unsupported .npy version {version}")
    if dtype.kind not in _NUMERIC_KINDS:
        raise ModelError(f"{path}: array {name!r} holds {dtype}, not numbers")
    if any(dim < 0 for dim in shape):
        raise ModelError(f"{path}: array {name!r} has a negative dimension in {shape}")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > size:
        raise ModelError(f"{path}: array {name!r} of shape {shape} is larger than its data")
    data = member.read(nbytes)
    if len(data) != nbytes:
        raise ModelError(f"{path}: array {name!r} is truncated")
    raw = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow shows up as inf below
        array = raw.astype(np.float32)
    if not np.isfinite(array).all():
        raise ModelError(f"{path}: array {name!r} holds NaN or infinity")
    return array
