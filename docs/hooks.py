"""MkDocs hooks of the manual (``hooks:`` in mkdocs.yml).

- A page in ``docs/`` that the nav does not list yet is put under "More" at the end (its
  title from its first heading), so a page added by someone else never breaks the build
  and never goes missing from the site; place it in ``nav`` to give it its spot.
- A link from a page to a file of the repository outside ``docs/`` (an image under
  ``samples/``, ``config/default.toml``) is written relative to the page, so it works where
  the Markdown is read (GitHub, an editor); the site gets a copy of the file under
  ``repo/`` and the link is pointed there.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

COPIES = "repo"
"""The site's folder for the copies of the repository's files that pages link to."""
LINK = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
"""An inline link or image: ``](target)`` or ``](target "title")``."""
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def _nav_paths(items: Iterable[Any]) -> set[str]:
    paths: set[str] = set()
    for item in items:
        if isinstance(item, str):
            paths.add(item)
        elif isinstance(item, dict):
            for value in item.values():
                paths |= _nav_paths([value] if isinstance(value, str) else value)
    return paths


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Append the pages the nav leaves out under "More"."""
    docs = Path(config.docs_dir)
    listed = _nav_paths(config.nav or [])
    pages = sorted(path.relative_to(docs).as_posix() for path in docs.rglob("*.md"))
    missing = [page for page in pages if page not in listed]
    if config.nav is not None and missing:
        config.nav.append({"More": missing})
    return config


def _outside_target(page_uri: str, target: str, docs: Path) -> str | None:
    """The repository path of a link's target outside ``docs/`` (``None``: not one)."""
    if "://" in target or target.startswith(("#", "/", "mailto:")):
        return None
    path = target.split("#", 1)[0]
    if not path:
        return None
    docs = docs.absolute()
    resolved = Path(os.path.normpath(docs / posixpath.dirname(page_uri) / path))
    if resolved.is_relative_to(docs) or not resolved.is_relative_to(docs.parent):
        return None
    if resolved.suffix == ".md" or not resolved.is_file():
        return None
    return resolved.relative_to(docs.parent).as_posix()


def _links(markdown: str) -> list[re.Match[str]]:
    fences = [(m.start(), m.end()) for m in FENCE.finditer(markdown)]
    return [
        m
        for m in LINK.finditer(markdown)
        if not any(start <= m.start() < end for start, end in fences)
    ]


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add a copy of every repository file outside ``docs/`` that a page links to."""
    docs = Path(config.docs_dir)
    wanted: set[str] = set()
    for file in files.documentation_pages():
        text = Path(file.abs_src_path or "").read_text(encoding="utf-8")
        for match in _links(text):
            target = _outside_target(file.src_uri, match.group(2), docs)
            if target is not None:
                wanted.add(target)
    root = docs.absolute().parent
    for target in sorted(wanted):
        files.append(File.generated(config, f"{COPIES}/{target}", abs_src_path=str(root / target)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Point links to the repository's files at their copies in the site."""
    docs = Path(config.docs_dir)
    here = posixpath.dirname(page.file.src_uri)
    out: list[str] = []
    last = 0
    for match in _links(markdown):
        target = _outside_target(page.file.src_uri, match.group(2), docs)
        if target is None:
            continue
        anchor = match.group(2).partition("#")[2]
        new = posixpath.relpath(f"{COPIES}/{target}", here or ".")
        out += [markdown[last : match.start(2)], new + (f"#{anchor}" if anchor else "")]
        last = match.end(2)
    out.append(markdown[last:])
    return "".join(out)
