"""promtool, pinned (see tools/base/versions.py) and installed on first use: checks and unit-tests alert rules."""

from __future__ import annotations

from pathlib import Path

from tools.base import toolcache
from tools.base.run import Result, run


def promtool() -> str:
    return toolcache.ensure("promtool")


def check_rules(files: list[Path]) -> Result:
    """`promtool check rules FILE...`: syntax, PromQL and templates of every rule (exit 1 on any problem)."""
    return run([promtool(), "check", "rules", *map(str, files)], check=False, timeout=120)


def test_rules(files: list[Path]) -> Result:
    """`promtool test rules FILE...`: the unit tests (input series, expected alerts) in each file."""
    return run([promtool(), "test", "rules", *map(str, files)], check=False, timeout=300)
