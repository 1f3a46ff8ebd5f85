"""tools/lint.py's own checks: the chart's copies of the monitoring rules and dashboard (checked, and written by
--fix), on a temporary copy of the files involved."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tools import REPO_ROOT, lint

RULES, DASHBOARD = lint.COPIES


@pytest.fixture
def root(tmp_path) -> Path:
    """The copies' sources and the chart's copies, as they are in the repository."""
    for source, copy in lint.COPIES:
        for name in (source, copy):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def change_one_byte(path: Path, line: int) -> None:
    """The line's first byte becomes another one."""
    lines = path.read_bytes().splitlines(keepends=True)
    lines[line - 1] = (b"Y" if lines[line - 1].startswith(b"X") else b"X") + lines[line - 1][1:]
    path.write_bytes(b"".join(lines))


def test_the_repository_s_copies_are_current_and_nox_s_lint_checks_them(monkeypatch):
    assert lint.stale_copies() == []
    monkeypatch.setattr(lint, "which", lambda program, hint: program)  # shellcheck and hadolint need not be here
    steps = dict(lint.checks())
    assert steps["chart copies"]() == []


def test_a_stale_copy_fails_nox_s_lint_with_its_line(root, monkeypatch, capsys):
    change_one_byte(root / RULES[1], 1)
    monkeypatch.setattr(lint, "checks", lambda: [("chart copies", lambda: lint.stale_copies(root))])
    assert lint.main([]) == 1
    out, err = capsys.readouterr()
    assert out == "chart copies: FAILED\n"
    assert err == (f"{RULES[1]}:1: differs from {RULES[0]}:1 (nox -s lint -- --fix copies it over)\n"
                   "error: lint failed: chart copies\n")


@pytest.mark.parametrize(("source", "copy"), lint.COPIES)
def test_a_copy_that_differs_in_one_byte_fails_with_one_line_naming_both_files(root, source, copy):
    change_one_byte(root / copy, 3)
    assert lint.stale_copies(root) == [f"{copy}:3: differs from {source}:3 (nox -s lint -- --fix copies it over)"]


def test_a_changed_source_is_reported_at_its_first_changed_line(root):
    source, copy = RULES
    text = (root / source).read_text().splitlines(keepends=True)
    (root / source).write_text("".join(text[:5] + ["# a new comment\n"] + text[5:]))
    assert lint.stale_copies(root) == [f"{copy}:6: differs from {source}:6 (nox -s lint -- --fix copies it over)"]


def test_a_missing_copy_or_source_is_reported(root):
    (root / RULES[1]).unlink()
    (root / DASHBOARD[0]).unlink()
    assert lint.stale_copies(root) == [
        f"{RULES[1]}: missing; it is a copy of {RULES[0]} (nox -s lint -- --fix writes it)",
        f"{DASHBOARD[0]}: missing; {DASHBOARD[1]} is a copy of it",
    ]


def test_fix_rewrites_only_the_stale_copy_by_renaming_a_complete_file_over_it(root, monkeypatch):
    source, copy = DASHBOARD
    change_one_byte(root / copy, 2)
    (root / copy).chmod(0o640)
    untouched = (root / RULES[1]).stat().st_ino
    renames = []
    real_replace = os.replace

    def replace(src, dst):
        renames.append((Path(src).parent, Path(src).read_bytes(), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(lint.os, "replace", replace)
    assert lint.write_copies(root) == [copy]
    assert renames == [((root / copy).parent, (root / source).read_bytes(), root / copy)]
    assert (root / copy).read_bytes() == (root / source).read_bytes()
    assert (root / copy).stat().st_mode & 0o777 == 0o640
    assert (root / RULES[1]).stat().st_ino == untouched
    assert sorted(p.name for p in (root / copy).parent.iterdir()) == ["prometheusrule.yaml", "zookeeper-dashboard.json"]
    assert lint.stale_copies(root) == [] and lint.write_copies(root) == []


def test_fix_that_fails_midway_leaves_the_old_copy_and_no_temporary_file(root, monkeypatch):
    _, copy = RULES
    change_one_byte(root / copy, 4)
    before = (root / copy).read_bytes()

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(lint.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        lint.write_copies(root)
    assert (root / copy).read_bytes() == before
    assert sorted(p.name for p in (root / copy).parent.iterdir()) == ["prometheusrule.yaml", "zookeeper-dashboard.json"]


def test_fix_writes_a_missing_copy(root):
    source, copy = RULES
    (root / copy).unlink()
    assert lint.write_copies(root) == [copy]
    assert (root / copy).read_bytes() == (root / source).read_bytes()
