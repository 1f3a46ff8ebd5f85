"""The mutation suite: realistic one-line mistakes (tools/mutate/mistakes.yaml), each applied alone to a fresh copy of
the repository, where validate (or, for image scripts and the chart's schema, the tests that guard them) must catch it.

Each mistake runs only the checks its edited files can reach: validate over the profiles those files render into
(with the other side of each environment, so parity runs), against the oldest and the newest Kubernetes version;
pytest over the image scripts' engine-free tests for image/, over the schema tests for chart/values.schema.json.
A baseline run on an unedited copy must pass first, so a mistake counts as caught only for what it changed.

Layer 7 (beside tools/bench, which it never imports): may import every lower layer.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tools import REPO_ROOT
from tools.base.errors import UserError
from tools.base.profiles import ENVIRONMENTS

MISTAKES = Path(__file__).resolve().parent / "mistakes.yaml"
TABLE_DOC = REPO_ROOT / "docs" / "development" / "mutation.md"  # its table of the mistakes, between markers
TABLE_BLOCK = "mutations"
COPY_IGNORE = shutil.ignore_patterns(".git", ".nox", "build", "__pycache__", ".pytest_cache", ".ruff_cache")
IMAGE_TESTS = "tests/image/test_scripts.py"
SCHEMA_TESTS = "tests/chart/test_chart_schema.py"
CHART_PROFILES = ["chart-default", *(f"chart-{env}" for env in ENVIRONMENTS)]
OVERLAY_PROFILES = [f"overlay-{env}" for env in ENVIRONMENTS]
TOOLCHAIN_PROFILES = ["overlay-kind", "chart-kind"]  # the smallest set that runs every validate check


@dataclass(frozen=True)
class Edit:
    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Mistake:
    id: str
    mistake: str
    why: str
    edits: tuple[Edit, ...]
    caught_by: tuple[str, ...]

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(e.file for e in self.edits))


@dataclass
class Checks:
    """What to run for a mistake: validate over these profiles, pytest over these test files."""

    profiles: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = []
        if self.profiles:
            parts.append(f"validate {' '.join(self.profiles)}")
        if self.tests:
            parts.append(f"pytest {' '.join(self.tests)}")
        return "; ".join(parts)


@dataclass
class Outcome:
    mistake: Mistake
    checks: Checks
    catchers: list[str]
    seconds: float
    problem: str | None = None  # why the suite fails for this mistake (None: caught as expected)

    @property
    def caught(self) -> bool:
        return self.problem is None


def load(path: Path = MISTAKES) -> list[Mistake]:
    """The mistakes, each with an id, a why, edits and the checks expected to catch it; a UserError on bad data."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: cannot read the mistakes: {exc}") from None
    mistakes, seen = [], set()
    for index, item in enumerate(data if isinstance(data, list) else []):
        where = f"{path}: item {index + 1}"
        if not isinstance(item, dict) or not {"id", "mistake", "why", "edits", "caught_by"} <= set(item):
            raise UserError(f"{where}: needs id, mistake, why, edits and caught_by")
        if item["id"] in seen:
            raise UserError(f"{where}: id {item['id']} is used twice")
        seen.add(item["id"])
        edits = item["edits"] if isinstance(item["edits"], list) else []
        if not edits or not all(isinstance(e, dict) and {"file", "old", "new"} <= set(e) and e["old"]
                                for e in edits):
            raise UserError(f"{where} ({item['id']}): each edit needs file, a non-empty old and new")
        mistakes.append(Mistake(str(item["id"]), str(item["mistake"]), str(item["why"]),
                                tuple(Edit(str(e["file"]), str(e["old"]), str(e["new"])) for e in edits),
                                tuple(str(c) for c in item["caught_by"])))
    if not mistakes:
        raise UserError(f"{path}: no mistakes listed")
    return mistakes


def components_used(root: Path) -> dict[str, list[str]]:
    """Component name -> the overlay profiles whose kustomization lists it."""
    used: dict[str, list[str]] = {}
    for env in ENVIRONMENTS:
        text = (root / "overlays" / env / "kustomization.yaml").read_text()
        for name in re.findall(r"components/([A-Za-z0-9_.-]+)", text):
            used.setdefault(name, []).append(f"overlay-{env}")
    return used


def checks_for(mistake: Mistake, root: Path = REPO_ROOT) -> Checks:
    """The checks that can see the edited files: the profiles they render into (plus each environment's other
    side, so parity runs), and the tests that guard image scripts and the chart's schema."""
    profiles: set[str] = set()
    tests: list[str] = []
    for file in mistake.files:
        parts = Path(file).parts
        if parts[0] == "base":
            profiles |= set(OVERLAY_PROFILES)
        elif parts[0] == "components":
            profiles |= set(components_used(root).get(parts[1], []))
        elif parts[0] == "overlays":
            profiles.add(f"overlay-{parts[1]}")
        elif parts[:2] == ("chart", "ci"):
            profiles.add(f"chart-{parts[2].removesuffix('-values.yaml')}")
        elif parts[0] == "chart":
            profiles |= set(CHART_PROFILES)
            if file == "chart/values.schema.json":
                tests.append(SCHEMA_TESTS)
        elif parts[0] == "tools":
            profiles |= set(TOOLCHAIN_PROFILES)
        elif parts[0] == "image":
            tests.append(IMAGE_TESTS)
        else:
            profiles |= set(OVERLAY_PROFILES + CHART_PROFILES)
    for name in list(profiles):
        source, env = name.split("-", 1)
        if env in ENVIRONMENTS:
            profiles.add(f"{'chart' if source == 'overlay' else 'overlay'}-{env}")
    order = OVERLAY_PROFILES + CHART_PROFILES
    return Checks(sorted(profiles, key=order.index), list(dict.fromkeys(tests)))


def copy_repository(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=COPY_IGNORE, symlinks=True)
    return target


def apply(mistake: Mistake, root: Path) -> None:
    """Apply every edit; an old text that is missing or not unique is a UserError naming the mistake and file."""
    for edit in mistake.edits:
        path = root / edit.file
        text = path.read_text() if path.is_file() else ""
        count = text.count(edit.old)
        if count != 1:
            found = "no longer occurs" if count == 0 else f"occurs {count} times"
            raise UserError(f"mistake {mistake.id}: {edit.file}: its old text {found} (the file changed: update "
                            f"the mistake in {os.path.relpath(MISTAKES, REPO_ROOT)})")
        path.write_text(text.replace(edit.old, edit.new))


def _environment(root: Path) -> dict[str, str]:
    # the copy's own tools, never the checkout's (a broken import in the copy must show)
    return {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}


def validate_catchers(result: subprocess.CompletedProcess) -> list[str]:
    """What validate reported: rule ids at error severity, parity, kubeconform, values.schema.json (helm refused the
    values), render (another rendering failure), import."""
    found = re.findall(r"^(ZK-[A-Z]+-[0-9]{3})\s+error\s", result.stdout, re.MULTILINE)
    for line in result.stderr.splitlines():
        if line.startswith("FAIL parity:"):
            found.append("parity")
        elif line.startswith("FAIL ") and not line.startswith("FAIL policy:"):
            found.append("kubeconform")
        elif line.startswith("error: cannot run the ") and "importing tools." in line:
            found.append("import")
        elif re.match(r"error: \S+: rendering .* failed", line):
            schema = "values don't meet the specifications of the schema" in result.stderr
            found.append("values.schema.json" if schema else "render")
    if result.returncode != 0 and not found:
        last = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
        found.append(f"validate ({last})")
    return list(dict.fromkeys(found))


def pytest_catchers(result: subprocess.CompletedProcess) -> list[str]:
    found = [f"test:{name}" for name in re.findall(r"^FAILED \S+::([A-Za-z0-9_]+)", result.stdout, re.MULTILINE)]
    if result.returncode != 0 and not found:
        found.append(f"pytest (exit {result.returncode}: {(result.stdout.strip().splitlines() or [''])[-1]})")
    return list(dict.fromkeys(found))


def run_checks(root: Path, checks: Checks, kube_versions: list[str]) -> tuple[list[str], str]:
    """Run the checks in a copy; (catchers, combined output)."""
    catchers, output = [], ""
    if checks.profiles:
        result = subprocess.run([sys.executable, "-m", "tools.checks.validate", *checks.profiles, "--kube-versions",
                                 ",".join(kube_versions), "--build-dir", str(root / "build")],
                                cwd=root, env=_environment(root), capture_output=True, text=True, timeout=600)
        catchers += validate_catchers(result)
        output += result.stdout + result.stderr
    if checks.tests:
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
                                 *checks.tests], cwd=root, env=_environment(root), capture_output=True, text=True,
                                timeout=600)
        catchers += pytest_catchers(result)
        output += result.stdout + result.stderr
    return catchers, output


def try_mistake(mistake: Mistake, kube_versions: list[str], workdir: Path, source: Path = REPO_ROOT) -> Outcome:
    """Apply the mistake alone to a fresh copy and run the checks that can see it."""
    started = time.monotonic()
    checks = checks_for(mistake, source)
    root = copy_repository(source, workdir / mistake.id)
    try:
        try:
            apply(mistake, root)
        except UserError as exc:
            return Outcome(mistake, checks, [], time.monotonic() - started, f"does not apply: {exc}")
        catchers, _ = run_checks(root, checks, kube_versions)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    seconds = time.monotonic() - started
    missing = [c for c in mistake.caught_by if c not in catchers]
    if not catchers:
        problem = "ESCAPED: no check caught it; add a rule or test that does"
    elif missing:
        problem = f"caught by {', '.join(catchers)}, but not by {', '.join(missing)} as mistakes.yaml says"
    else:
        problem = None
    return Outcome(mistake, checks, catchers, seconds, problem)


def baseline(kube_versions: list[str], workdir: Path, mistakes: list[Mistake], source: Path = REPO_ROOT) -> float:
    """Every check the mistakes use, on an unedited copy: all must pass, or a mistake could be 'caught' by what was
    already broken. Returns the seconds it took."""
    started = time.monotonic()
    every = Checks(OVERLAY_PROFILES + CHART_PROFILES,
                   list(dict.fromkeys(t for m in mistakes for t in checks_for(m, source).tests)))
    root = copy_repository(source, workdir / "baseline")
    try:
        catchers, output = run_checks(root, every, kube_versions)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if catchers:
        raise UserError(f"the unedited copy already fails ({', '.join(catchers)}); fix that first:\n"
                        f"{output.strip()[-3000:]}")
    return time.monotonic() - started


def markdown(mistakes: list[Mistake]) -> str:
    """The table of docs/development/mutation.md: one row per mistake."""
    rows = ["| mistake | files | why it matters | caught by |", "|---|---|---|---|"]
    for m in mistakes:
        files = ", ".join(f"`{f}`" for f in m.files)
        catchers = ", ".join(f"`{c.removeprefix('test:')}`" for c in m.caught_by)
        rows.append(f"| {m.mistake} | {files} | {m.why} | {catchers} |")
    return "\n".join(rows)


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="kz-mutate-"))
