"""git, for what the checks read from the history: the commit subjects since a given commit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tools.base.run import run, which


@dataclass(frozen=True)
class Git:
    """git in one repository; `program` is found on PATH when not given."""

    root: Path
    program: str = ""

    def argv(self, *args: str) -> list[str]:
        return [self.program or which("git", "install git"), "-C", str(self.root), *args]

    def has_commit(self, revision: str) -> bool:
        """Whether the history holds revision (a shallow clone may not)."""
        return run(self.argv("cat-file", "-e", f"{revision}^{{commit}}"), check=False, timeout=30).code == 0

    def subjects(self, since: str) -> list[tuple[str, str]]:
        """(short hash, subject) of every commit after `since` up to HEAD, newest first."""
        out = run(self.argv("log", "--format=%h %s", f"{since}..HEAD"), timeout=60).stdout
        return [tuple(line.split(" ", 1)) if " " in line else (line, "") for line in out.splitlines()]
