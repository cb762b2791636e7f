"""``improviser bench install``: what each install of the package takes on disk.

The wheel of the working tree (:mod:`improviser.bench.wheel`) goes into a fresh venv per
extra set (``base``: none), with pip from the index this machine is set up to use. Each
venv is then measured two ways:

- its size on disk as ``du`` counts it: allocated blocks of every file, folder and link,
  a hard-linked file once (:func:`disk_usage`);
- the size of each installed distribution: the files its ``RECORD`` lists, found through
  :mod:`importlib.metadata` in that venv's site-packages (:func:`distribution_sizes`), so
  a wheel's bundled libraries (``numpy.libs/``, mypy's compiled modules) count with it.

:func:`group_parts` then shows a distribution with the dependencies only it brings
(required by it alone, directly or through one another), the way a person reads
"matplotlib (+ fontTools)".
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from improviser.bench.wheel import build_wheel, source_copy
from improviser.errors import REASON_CHARS, ConfigError, ImproviserError
from improviser.paths import ROOT

__all__ = [
    "BASE",
    "DEFAULT_EXTRAS",
    "InstallError",
    "Installed",
    "Part",
    "bench_install",
    "canonical",
    "check_extras",
    "disk_usage",
    "distribution_sizes",
    "group_parts",
    "measure_venv",
]

BASE = "base"
"""The venv with the package alone (no extra)."""
DEFAULT_EXTRAS = (BASE, "train", "dev")
"""The venvs measured when none is named: the player's, the trainer's, the developer's."""
INSTALL_TIMEOUT_S = 1800
"""The longest one ``pip install`` may take (TensorFlow unpacks over a gigabyte)."""
PACKAGE = "improviser"

Progress = Callable[[int, int], None]


class InstallError(ImproviserError, OSError):
    """A venv could not be made, or pip could not install into it."""


@dataclass(frozen=True)
class Installed:
    """One distribution in a venv: its bytes on disk and the names it requires."""

    name: str
    bytes: int
    files: int
    requires: frozenset[str] = frozenset()


@dataclass
class Part:
    """A distribution with the dependencies only it brought (``companions``)."""

    name: str
    own: int
    companions: dict[str, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        """The distribution's bytes and its companions'."""
        return self.own + sum(self.companions.values())

    def as_json(self) -> dict[str, Any]:
        """The part as the bench's JSON has it."""
        return {"name": self.name, "bytes": self.bytes, "own": self.own,
                "with": self.companions}  # fmt: skip


def canonical(name: str) -> str:
    """A distribution's name as pip compares names (PEP 503): ``Pydantic_Core`` is
    ``pydantic-core``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _allocated(st: os.stat_result) -> int:
    return st.st_blocks * 512


def _counted(st: os.stat_result, seen: set[tuple[int, int]]) -> bool:
    """Whether a path's blocks count: not a hard link to an inode already counted."""
    if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
        key = (st.st_dev, st.st_ino)
        if key in seen:
            return False
        seen.add(key)
    return True


def disk_usage(root: Path) -> int:
    """Bytes allocated under ``root`` as ``du -s --block-size=1`` counts them: every file,
    folder and symbolic link (not followed), each hard-linked inode once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    stack = [os.fspath(root)]
    while stack:
        path = stack.pop()
        st = os.lstat(path)
        if _counted(st, seen):
            total += _allocated(st)
        if stat.S_ISDIR(st.st_mode):
            with os.scandir(path) as entries:
                stack.extend(entry.path for entry in entries)
    return total


_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA_ONLY = re.compile(r";.*\bextra\s*==")


def _required_names(requires: Iterable[str], *, extras: bool) -> frozenset[str]:
    """The canonical names a distribution requires; unless ``extras``, leaving out those
    under one of its own extras (installed only when someone asked for that extra)."""
    names = set()
    for line in requires:
        found = _NAME.match(line)
        if found and (extras or not _EXTRA_ONLY.search(line)):
            names.add(canonical(found.group(1)))
    return frozenset(names)


def distribution_sizes(site_dirs: Sequence[Path], root: str = PACKAGE) -> dict[str, Installed]:
    """Every distribution installed in ``site_dirs``, by canonical name: the allocated
    bytes of the files its ``RECORD`` lists (each hard-linked inode once), and what it
    requires (``root``, the package installed, with its extras: they were asked for)."""
    out: dict[str, Installed] = {}
    for dist in metadata.distributions(path=[os.fspath(d) for d in site_dirs]):
        name = dist.metadata["Name"]
        key = canonical(name)
        if key in out:  # the same name on two paths: the first one wins, as for import
            continue
        seen: set[tuple[int, int]] = set()
        total = files = 0
        for entry in dist.files or ():
            try:
                st = os.lstat(str(dist.locate_file(entry)))
            except OSError:
                continue  # listed but gone (a .pyc pip never wrote, say)
            files += 1
            if _counted(st, seen):
                total += _allocated(st)
        requires = _required_names(dist.requires or (), extras=key == canonical(root))
        out[key] = Installed(name, total, files, requires)
    return out


def group_parts(installed: Mapping[str, Installed], root: str = PACKAGE) -> list[Part]:
    """The venv's distributions as parts, largest first: a distribution that only one
    other requires goes with that one (following such a chain up), except that those
    only ``root`` requires stay parts of their own (the package's direct dependencies)."""
    requirers: dict[str, set[str]] = {key: set() for key in installed}
    for key, dist in installed.items():
        for dep in dist.requires & requirers.keys():
            if dep != key:
                requirers[dep].add(key)

    def owner(start: str) -> str:
        key, visited = start, {start}
        while len(requirers[key]) == 1:
            (up,) = requirers[key]
            if up in visited:  # a cycle: no one of them brought the others
                return start
            if up == canonical(root):
                break
            visited.add(up)
            key = up
        return key

    parts: dict[str, Part] = {}
    for key in installed:
        top = owner(key)
        part = parts.setdefault(top, Part(installed[top].name, installed[top].bytes))
        if top != key:
            part.companions[installed[key].name] = installed[key].bytes
    for part in parts.values():
        part.companions = dict(sorted(part.companions.items(), key=lambda kv: -kv[1]))
    return sorted(parts.values(), key=lambda p: (-p.bytes, p.name))


def check_extras(extras: Sequence[str], pyproject: Path = ROOT / "pyproject.toml") -> None:
    """Raise :class:`ConfigError` naming an extra the package does not declare."""
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    known = set(declared.get("optional-dependencies", {}))
    for extra in extras:
        if extra != BASE and extra not in known:
            names = ", ".join(sorted(known | {BASE}))
            raise ConfigError(f"--extra: the package has no extra {extra!r} (it has: {names})")


def _venv_facts(python: Path) -> dict[str, Any]:
    probe = (
        "import json, platform, sysconfig\n"
        "print(json.dumps({'python': platform.python_version(),"
        " 'site': sorted({sysconfig.get_path('purelib'), sysconfig.get_path('platlib')})}))"
    )
    facts: dict[str, Any] = json.loads(_run([str(python), "-c", probe], "probe the venv"))
    facts["pip"] = _run([str(python), "-m", "pip", "--version"], "run pip").split()[1]
    return facts


def _run(command: Sequence[str], what: str, timeout: float = 300) -> str:
    """Run a command; its stdout, or :class:`InstallError` with the last line it said."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InstallError(f"could not {what}: no answer in {timeout:.0f} s") from exc
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines()]
        last = next((line for line in reversed(lines) if line), f"exit {done.returncode}")
        raise InstallError(f"could not {what}: {last[:REASON_CHARS]}")
    return done.stdout


def measure_venv(venv: Path, site_dirs: Sequence[Path]) -> dict[str, Any]:
    """A venv's bytes on disk, each distribution's and the parts they make."""
    installed = distribution_sizes(site_dirs)
    total = disk_usage(venv)
    listed = sum(dist.bytes for dist in installed.values())
    ranked = sorted(installed.values(), key=lambda d: (-d.bytes, d.name))
    return {
        "bytes": total,
        "distributions": {d.name: d.bytes for d in ranked},
        "unlisted_bytes": total - listed,
        "parts": [part.as_json() for part in group_parts(installed)],
    }


def _install_one(python: Path, wheel: Path, extra: str) -> tuple[str, float]:
    spec = str(wheel) if extra == BASE else f"{PACKAGE}[{extra}] @ {wheel.as_uri()}"
    what = f"install {PACKAGE if extra == BASE else f'{PACKAGE}[{extra}]'} into a fresh venv"
    start = time.monotonic()
    _run([str(python), "-m", "pip", "install", "-q", "--no-input", spec], what,
         timeout=INSTALL_TIMEOUT_S)  # fmt: skip
    return spec, time.monotonic() - start


def bench_install(
    extras: Sequence[str] = DEFAULT_EXTRAS,
    *,
    root: Path = ROOT,
    keep: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build the wheel of the tree at ``root``, install it in a fresh venv per extra set
    and measure each; the bench's JSON. The venvs are deleted unless ``keep``."""
    check_extras(extras, root / "pyproject.toml")
    if shutil.which("git") is None or not (root / ".git").exists():
        raise InstallError(f"{root}: bench install builds the wheel of a git working tree")
    steps = 1 + 2 * len(extras)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, steps)

    if progress is not None:
        progress(0, steps)
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="improviser-install-"))
    try:
        try:
            wheel = build_wheel(source_copy(root, work / "src"), work / "dist")
        except subprocess.CalledProcessError as exc:
            last = (exc.stderr or "").strip().splitlines()[-1:] or [f"exit {exc.returncode}"]
            raise InstallError(f"could not build the wheel: {last[0][:REASON_CHARS]}") from exc
        step()
        venvs: dict[str, Any] = {}
        facts: dict[str, Any] = {}
        for extra in extras:
            venv = work / "venvs" / extra
            _run([sys.executable, "-m", "venv", str(venv)], f"make a venv in {venv}")
            python = venv / "bin" / "python"
            spec, seconds = _install_one(python, wheel, extra)
            step()
            facts = _venv_facts(python)
            shown = spec.replace(wheel.parent.as_uri(), "file://$DIST").replace(
                str(wheel.parent), "$DIST"
            )  # what was installed, not where this run's temporary folder was
            venvs[extra] = {"pip_install": shown, "install_s": round(seconds, 1)}
            venvs[extra] |= measure_venv(venv, [Path(p) for p in facts["site"]])
            step()
        return {
            "bench": "install",
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "python": facts.get("python", platform.python_version()),
            "pip": facts.get("pip"),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "wheel": {"name": wheel.name, "bytes": wheel.stat().st_size},
            "load": {"start": list(load_start), "end": list(os.getloadavg())},
            "kept": str(work) if keep else None,
            "venvs": venvs,
        }
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
