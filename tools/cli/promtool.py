"""promtool, pinned (see tools/base/versions.py) and installed on first use: checks and unit-tests alert rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tools.base import toolcache
from tools.base.run import Result, run


@dataclass(frozen=True)
class Promtool:
    """The pinned promtool binary (`Promtool.pinned()` builds it once into the tool cache)."""

    program: str

    @classmethod
    def pinned(cls) -> Promtool:
        return cls(toolcache.ensure("promtool"))

    def check_rules(self, files: list[Path]) -> Result:
        """`promtool check rules FILE...`: syntax, PromQL and templates of every rule (exit 1 on any problem)."""
        return run([self.program, "check", "rules", *map(str, files)], check=False, timeout=120)

    def test_rules(self, files: list[Path]) -> Result:
        """`promtool test rules FILE...`: the unit tests (input series, expected alerts) in each file."""
        return run([self.program, "test", "rules", *map(str, files)], check=False, timeout=300)
