"""helm, pinned (see tools/base/versions.py) and installed on first use."""

from __future__ import annotations

from pathlib import Path

from tools.base import toolcache
from tools.base.run import Result, run


def helm() -> str:
    return toolcache.ensure("helm")


def template(chart: Path, release: str = "zk", values: list[Path] = (), namespace: str = "default",
             set_values: list[str] = ()) -> str:
    """`helm template RELEASE CHART -f VALUES...`: the rendered multi-document YAML."""
    cmd = [helm(), "template", release, str(chart), "--namespace", namespace]
    for path in values:
        cmd += ["-f", str(path)]
    for item in set_values:
        cmd += ["--set", item]
    return run(cmd, timeout=120).stdout


def lint(chart: Path, values: list[Path] = (), strict: bool = True) -> Result:
    cmd = [helm(), "lint", str(chart)] + (["--strict"] if strict else [])
    for path in values:
        cmd += ["-f", str(path)]
    return run(cmd, check=False, timeout=120)
