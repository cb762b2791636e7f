"""The manual: its generated pages are up to date, it builds in strict mode (no broken
link or anchor, every page in the nav), and the README's links resolve."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from improviser.cli import docs
from improviser.paths import ROOT
from improviser.telemetry.schemas import TOPIC_MODELS, schemas

README = ROOT / "README.md"
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict``; no network is needed (Material's build fetches nothing)."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=240,
    )


def test_generated_pages_are_up_to_date() -> None:
    out_of_date = [str(path.relative_to(ROOT)) for path in docs.stale()]
    assert not out_of_date, f"{out_of_date}: run `python -m improviser.cli.docs`"


def test_mqtt_reference_covers_every_topic_and_control() -> None:
    page = (ROOT / "docs" / "reference" / "mqtt.md").read_text(encoding="utf-8")
    for topic in TOPIC_MODELS:
        assert f"### `{topic}`" in page
    for key in schemas()["set"]["$defs"]:
        assert f"| `{key}` |" in page


def test_generated_tables_carry_the_samples_figures() -> None:
    """Independent of the generator: the figures in samples/ are on the pages."""
    evaluation = (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8")
    scores = json.loads((ROOT / "samples" / "model" / "improviser.evaluate.json").read_text())
    for name, baseline in {"improviser": scores, **scores["baselines"]}.items():
        assert f"{baseline['bits_per_note']:.3f}" in evaluation, name
    soak = (ROOT / "docs" / "soak.md").read_text(encoding="utf-8")
    for path in (ROOT / "samples" / "soak").glob("*.json"):
        summary = json.loads(path.read_text())["summary"]
        phrases = summary["answered"] + summary["unanswered"]
        assert f"| `{path.name}` |" in soak
        assert f"| {summary['answered']} / {phrases} |" in soak


def test_manual_builds_in_strict_mode(tmp_path: Path) -> None:
    result = _build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    for page in (ROOT / "docs").rglob("*.md"):
        rel = page.relative_to(ROOT / "docs").with_suffix("")
        built = tmp_path / "site" / ("" if rel.name == "index" else rel) / "index.html"
        assert built.exists(), f"{page} was not built"
    # Every image and file a page links to outside docs/ is in the site.
    assert (tmp_path / "site" / "repo" / "samples" / "demo" / "session.png").exists()


def _copy_of_the_manual(tmp_path: Path) -> Path:
    """The manual in ``tmp_path`` (docs/ copied; the repository's other folders linked)."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    for folder in ("samples", "improviser", "config"):
        (tmp_path / folder).symlink_to(ROOT / folder, target_is_directory=True)
    return tmp_path / "mkdocs.yml"


def test_strict_build_fails_on_a_broken_link_and_lists_a_new_page(tmp_path: Path) -> None:
    config = _copy_of_the_manual(tmp_path)
    (tmp_path / "docs" / "new-page.md").write_text("# A page nobody put in the nav\n")
    result = _build(config, tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "A page nobody put in the nav" in home  # in the nav, under "More"

    index = tmp_path / "docs" / "index.md"
    index.write_text(index.read_text() + "\nSee [nowhere](no-such-page.md).\n")
    result = _build(config, tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-page.md" in result.stdout + result.stderr


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.*)$", text, re.M)}


def _relative_links(text: str) -> list[str]:
    text = FENCE.sub("", text)
    targets = LINK.findall(text) + REFERENCE.findall(text)
    return [t for t in targets if "://" not in t and not t.startswith(("mailto:", "#"))]


def test_readme_links_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    links = _relative_links(text)
    assert links, "the README links to the manual"
    for target in links:
        path, _, anchor = target.partition("#")
        file = (README.parent / path).resolve()
        assert file.exists(), f"README.md links to {target}, which does not exist"
        if anchor and file.suffix == ".md":
            assert anchor in _anchors(file), f"README.md links to {target}: no such heading"
    in_page = re.findall(r"\]\(#([^)]+)\)", FENCE.sub("", text))
    for anchor in in_page:
        assert anchor in _anchors(README), f"README.md links to #{anchor}: no such heading"


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Playing live", "playing-live"),
        ("Sync, clock and answer timing", "sync-clock-and-answer-timing"),
    ],
)
def test_slug_is_githubs(heading: str, slug: str) -> None:
    assert _slug(heading) == slug
