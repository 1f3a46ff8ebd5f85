"""What a reader follows in the Markdown docs, read the way GitHub renders them: heading anchors, relative links,
shell blocks. Structure only (headings, links, fences); nothing here reads the prose."""

from __future__ import annotations

import re
from pathlib import Path

from tools import REPO_ROOT

FENCE = re.compile(r"^ *```.*?^ *```", re.MULTILINE | re.DOTALL)  # indented too: a fence inside a list item
SHELL_BLOCK = re.compile(r"^ *```(?:sh|bash)\n(.*?)^ *```", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
EXPLICIT_ANCHOR = re.compile(r'<a (?:id|name)="([^"]+)"')


def docs() -> list[Path]:
    """Every Markdown page a user or contributor reads, repository-relative order."""
    pages = [REPO_ROOT / name for name in ("README.md", "CONTRIBUTING.md")]
    pages += [REPO_ROOT / "chart" / "README.md", REPO_ROOT / "image" / "README.md"]
    pages += sorted((REPO_ROOT / "docs").rglob("*.md"))
    return [page for page in pages if page.is_file()]


def without_fences(text: str) -> str:
    """The text with fenced code blocks blanked out (a `# comment` in a sh block is no heading)."""
    return FENCE.sub(lambda match: "\n" * match.group(0).count("\n"), text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a link into this page may name (GitHub numbers repeated headings -1, -2, ...)."""
    found: set[str] = set(EXPLICIT_ANCHOR.findall(text))
    seen: dict[str, int] = {}
    for heading in HEADING.findall(without_fences(text)):
        base = slug(heading)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def links(text: str) -> list[str]:
    """The targets of the page's Markdown links, outside code blocks."""
    return LINK.findall(without_fences(text))
