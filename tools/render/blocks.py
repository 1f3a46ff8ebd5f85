"""Generated blocks in README.md between `<!-- NAME:begin -->` and `<!-- NAME:end -->` markers."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tools import REPO_ROOT
from tools.base.errors import UserError

README = REPO_ROOT / "README.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def split(name: str, readme: Path = README) -> tuple[str, str, str]:
    """README text before the block (through its begin marker), the block, and the rest (from its end marker)."""
    begin, end = markers(name)
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{readme}: cannot read: {exc.strerror}") from None
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise UserError(f"{readme}: needs exactly one '{begin}' followed by one '{end}'")
    start = text.index(begin) + len(begin)
    stop = text.index(end)
    return text[:start], text[start:stop], text[stop:]


def block(name: str, readme: Path = README) -> str:
    """The text currently between the markers (stripped)."""
    return split(name, readme)[1].strip()


def write_block(name: str, generated: str, readme: Path = README) -> bool:
    """Put the text between the markers (atomically); True when the file changed."""
    before, current, after = split(name, readme)
    if current.strip() == generated.strip():
        return False
    text = f"{before}\n{generated.strip()}\n{after}"
    fd, tmp = tempfile.mkstemp(prefix=".README.", dir=readme.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, readme)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
