"""``bench install``'s pure parts: sizes on disk as ``du`` counts them, a distribution's
bytes from its ``RECORD`` in a site-packages written here, the grouping of dependencies
with the one distribution that brought them, and the tables. No pip, no network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from improviser.bench.install_size import (
    Installed,
    canonical,
    check_extras,
    disk_usage,
    distribution_sizes,
    group_parts,
)
from improviser.bench.install_table import install_table, mb, part_text
from improviser.cli.bench_install import print_install
from improviser.errors import ConfigError
from improviser.paths import ROOT
from tests.cli_run import improviser, one_line_error


def _allocated(path: Path) -> int:
    return os.lstat(path).st_blocks * 512


def _write(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


@pytest.mark.skipif(shutil.which("du") is None, reason="needs coreutils' du")
def test_disk_usage_counts_as_du_does_and_a_hard_link_once(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    big = _write(tree / "a" / "big.bin", 300_000)
    _write(tree / "a" / "b" / "small.txt", 10)
    (tree / "empty").mkdir()
    (tree / "link").symlink_to(big)
    (tree / "dangling").symlink_to(tmp_path / "nowhere")
    before = disk_usage(tree)
    os.link(big, tree / "big-again.bin")
    after = disk_usage(tree)
    du = subprocess.run(
        ["du", "-s", "--block-size=1", str(tree)], capture_output=True, text=True, check=True
    )
    assert after == int(du.stdout.split()[0])
    assert after - before < _allocated(big)  # the second name adds no blocks of its own
    assert after > _allocated(big)  # the folders and the other files count too


def _dist(site: Path, name: str, files: dict[str, int], requires: list[str]) -> dict[str, Path]:
    """A distribution as pip leaves one: its files, and a dist-info with METADATA and a
    RECORD listing them (and a file that is not there)."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    meta = [f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"]
    meta += [f"Requires-Dist: {line}\n" for line in requires]
    (info / "METADATA").write_text("".join(meta), encoding="utf-8")
    written = {rel: _write(site / rel, size) for rel, size in files.items()}
    record = [f"{rel},sha256=x,{size}" for rel, size in files.items()]
    record += [f"{name}/gone.py,,", f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n", encoding="utf-8")
    return written | {"METADATA": info / "METADATA", "RECORD": info / "RECORD"}


def test_a_distribution_is_the_files_its_record_lists(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    alpha = _dist(
        site,
        "Alpha_Pkg",
        {"alpha/__init__.py": 5_000, "alpha/core.so": 70_000, "alpha_pkg.libs/libx.so": 40_000},
        ["beta>=1", "Gamma.Lib; python_version >= '3'", "delta; extra == 'fast'"],
    )
    _dist(site, "beta", {"beta.py": 100}, [])
    _dist(site, "improviser", {"improviser/__init__.py": 100}, ["beta", "alpha-pkg; extra == 'x'"])
    _write(site / "alpha" / "not_listed.bin", 200_000)  # in the package's folder, not in RECORD

    found = distribution_sizes([site])

    assert set(found) == {"alpha-pkg", "beta", "improviser"}
    a = found["alpha-pkg"]
    assert a.name == "Alpha_Pkg"
    assert a.bytes == sum(_allocated(path) for path in alpha.values())  # the .libs included
    assert a.files == 5  # three files, METADATA, RECORD; not gone.py
    assert a.requires == {"beta", "gamma-lib"}  # not what only its extra asks for
    assert found["improviser"].requires == {"beta", "alpha-pkg"}  # the package's extras count


def _installed(name: str, size: int, *requires: str) -> Installed:
    return Installed(name, size, 1, frozenset(canonical(r) for r in requires))


def test_a_dependency_only_one_distribution_brought_goes_with_it() -> None:
    mega = 1_000_000
    installed = {
        canonical(d.name): d
        for d in (
            _installed("improviser", 1 * mega, "numpy", "matplotlib", "scipy", "scikit-learn"),
            _installed("numpy", 70 * mega),
            _installed("matplotlib", 38 * mega, "numpy", "fonttools", "Pillow"),
            _installed("fonttools", 37 * mega),
            _installed("Pillow", 22 * mega, "olefile"),  # a chain: olefile -> Pillow -> mpl
            _installed("olefile", 1 * mega),
            _installed("scikit-learn", 52 * mega, "numpy", "scipy", "joblib"),
            _installed("scipy", 150 * mega, "numpy"),  # also the package's own: its own part
            _installed("joblib", 3 * mega),
            _installed("left", 2 * mega, "right"),  # a cycle ends the chain
            _installed("right", 2 * mega, "left"),
            _installed("pip", 14 * mega),
        )
    }
    parts = {part.name: part for part in group_parts(installed)}

    assert set(parts) == {
        "improviser", "numpy", "matplotlib", "scikit-learn", "scipy", "left", "right", "pip",
    }  # fmt: skip
    assert parts["matplotlib"].companions == {
        "fonttools": 37 * mega, "Pillow": 22 * mega, "olefile": 1 * mega,
    }  # fmt: skip
    assert parts["matplotlib"].bytes == 98 * mega
    assert parts["scikit-learn"].companions == {"joblib": 3 * mega}
    assert parts["numpy"].companions == {}
    order = [part.name for part in group_parts(installed)]
    assert order[:3] == ["scipy", "matplotlib", "numpy"]  # by bytes with companions
    assert sum(p.bytes for p in parts.values()) == sum(d.bytes for d in installed.values())


def _venv(size: int, parts: list[dict[str, Any]]) -> dict[str, Any]:
    dists = {p["name"]: p["own"] for p in parts} | {
        name: s for p in parts for name, s in p["with"].items()
    }
    return {"bytes": size, "unlisted_bytes": 1_234_567, "distributions": dists, "parts": parts}


def _part(name: str, own: int, **with_: int) -> dict[str, Any]:
    return {"name": name, "own": own, "bytes": own + sum(with_.values()), "with": with_}


RESULT: dict[str, Any] = {
    "date": "2026-12-07T11:00:00+00:00",
    "python": "3.11.7",
    "pip": "23.2.1",
    "platform": "Linux-x86_64",
    "machine": "x86_64",
    "wheel": {"name": "improviser-0.1.0-cp311-cp311-linux_x86_64.whl", "bytes": 5_500_000},
    "load": {"start": [1.96, 1.5, 1.0], "end": [2.04, 1.8, 1.2]},
    "venvs": {
        "base": _venv(144_000_000, [_part("numpy", 75_000_000), _part("pip", 14_000_000)]),
        "train": _venv(
            1_920_000_000,
            [
                _part("tensorflow_cpu", 1_340_000_000, libclang=64_000_000, wrapt=200_000),
                _part("numpy", 75_000_000),
                _part(
                    "matplotlib",
                    38_000_000,
                    fonttools=37_000_000,
                    pillow=22_000_000,
                    kiwisolver=5_600_000,
                    cycler=6_000_000,
                ),
                _part("pip", 14_000_000),
            ],
        ),
    },
}


def test_sizes_read_in_decimal_units() -> None:
    assert [mb(n) for n in (5_600_000, 64_000_000, 1_340_000_000)] == [
        "5.6 MB", "64 MB", "1.34 GB",
    ]  # fmt: skip
    assert part_text(_part("pydantic", 4_600_000, pydantic_core=5_600_000, tiny=100)) == (
        "pydantic 10 MB (4.6 MB its own; pydantic_core 5.6 MB, …)"
    )
    four = _part("matplotlib", 38_000_000, a=37_000_000, b=22_000_000, c=6_000_000, d=5_600_000)
    assert part_text(four) == "matplotlib 109 MB (38 MB its own; a 37 MB, b 22 MB, c 6.0 MB, …)"
    assert part_text(_part("music21", 119_000_000, a=3_000_000, b=3_000_000)) == (
        "music21 125 MB (119 MB its own)"
    )
    assert part_text(_part("mypy", 64_000_000, librt=400_000)) == "mypy 64 MB"
    assert part_text(_part("numpy", 75_000_000)) == "numpy 75 MB"


def test_the_manual_table_names_what_each_venv_adds() -> None:
    lines = install_table(RESULT).splitlines()
    assert lines[2] == "| `improviser` | 144 MB | 2 | numpy 75 MB, pip 14 MB |"
    assert lines[3] == (
        "| `improviser[train]` | 1.92 GB | 10 | `improviser`, and: tensorflow_cpu 1.40 GB "
        "(1.34 GB its own; libclang 64 MB, …), matplotlib 109 MB (38 MB its own; "
        "fonttools 37 MB, pillow 22 MB, cycler 6.0 MB, …) |"
    )
    assert "Python 3.11.7, pip 23.2.1" in lines[-1] and "Load average 2.0" in lines[-1]


def test_the_terminal_table(capsys: pytest.CaptureFixture[str]) -> None:
    print_install(RESULT)
    out = capsys.readouterr().out
    assert "installed sizes, Python 3.11.7, pip 23.2.1" in out
    assert "+ tensorflow_cpu 1.40 GB (1.34 GB its own; libclang 64 MB, …)" in out
    assert "1.92 GB" in out and "1.2 MB" in out  # the venv, and what no RECORD lists


def test_an_unknown_extra_is_one_line(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\n[project.optional-dependencies]\ntrain = []\ndev = []\n',
        encoding="utf-8",
    )
    check_extras(["base", "train", "dev"], pyproject)
    with pytest.raises(ConfigError, match=r"no extra 'trian' \(it has: base, dev, train\)"):
        check_extras(["base", "trian"], pyproject)
    line = one_line_error(improviser("bench", "install", "--extra", "trian"))
    assert "--extra: the package has no extra 'trian'" in line


def test_the_manual_carries_the_measured_sizes() -> None:
    """Independent of the generator: each venv's total in samples/ is on the page."""
    result = json.loads((ROOT / "samples" / "install" / "sizes.json").read_text("utf-8"))
    page = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    assert "| venv | installed (`du`) |" in page
    for extra, venv in result["venvs"].items():
        size = venv["bytes"]
        total = f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:,.0f} MB"
        label = "`improviser`" if extra == "base" else f"`improviser[{extra}]`"
        assert f"| {label} | {total} | {len(venv['distributions'])} |" in page, extra
