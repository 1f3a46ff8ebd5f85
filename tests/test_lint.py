"""tools/checks/lint.py's own checks, on a temporary copy of the files involved: the chart's copies of the
monitoring rules and dashboard, and the places that name image/VERSION (each checked, and written by --fix)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tools import REPO_ROOT
from tools.base import versions
from tools.checks import lint

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
    assert steps["chart copies"]() == [] and steps["image version"]() == []


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


def line_of(path: Path, start: str) -> int:
    text = path.read_text()
    return text[:text.index(f"\n{start}") + 1].count("\n") + 1


@pytest.fixture
def pinned(tmp_path) -> Path:
    """image/VERSION and every file that names it, as they are in the repository."""
    names = {versions.IMAGE_VERSION_FILE, *(str(p.path.relative_to(REPO_ROOT)) for p in lint.pinned_values()[0])}
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def test_every_place_that_names_the_image_version_is_found():
    found, problems = lint.pinned_values()
    assert problems == []
    places = {(str(p.path.relative_to(REPO_ROOT)), p.name) for p in found}
    assert {("base/kustomization.yaml", "newTag"), ("chart/values.yaml", "image.tag"),
            ("chart/Chart.yaml", "appVersion"), ("image/pom.xml", "zookeeper.version"),
            ("base/kustomization.yaml", "app.kubernetes.io/version"),
            ("components/monitoring/kustomization.yaml", "app.kubernetes.io/version"),
            ("README.md", "the docs' image tag"), ("docs/operations/environments.md", "the docs' image tag")} <= places
    version = versions.image_version()
    assert {p.value for p in found} == {version, versions.zookeeper_version(version)}


def test_a_new_image_version_fails_with_a_located_line_per_place_and_fix_writes_them_all(pinned):
    old = versions.image_version()
    (pinned / "image" / "VERSION").write_text("3.8.4-2\n")
    problems = lint.stale_versions(pinned)
    assert len(problems) == len(lint.pinned_values(pinned)[0])
    assert (f"base/kustomization.yaml:{line_of(pinned / 'base' / 'kustomization.yaml', '    newTag: ')}: newTag is "
            f"{old}, image/VERSION says 3.8.4-2 (nox -s lint -- --fix writes it)") in problems
    assert (f"chart/Chart.yaml:{line_of(pinned / 'chart' / 'Chart.yaml', 'appVersion: ')}: appVersion is "
            f"{versions.zookeeper_version(old)}, image/VERSION says 3.8.4 (nox -s lint -- --fix writes it)") in problems
    written = lint.write_versions(pinned)
    assert "chart/values.yaml" in written and "image/pom.xml" in written
    assert lint.stale_versions(pinned) == [] and lint.write_versions(pinned) == []
    assert '  tag: "3.8.4-2"\n' in (pinned / "chart" / "values.yaml").read_text()
    assert "    <zookeeper.version>3.8.4</zookeeper.version>\n" in (pinned / "image" / "pom.xml").read_text()
    assert (pinned / "chart" / "values.yaml").read_text().count("3.8.4") == 1  # only the value changed


def test_one_stale_place_is_the_only_line_and_the_only_file_fix_writes(pinned):
    values = pinned / "chart" / "values.yaml"
    text = values.read_text()
    values.write_text(text.replace(f'  tag: "{versions.image_version()}"\n', '  tag: "3.9.4-7"\n'))
    assert lint.stale_versions(pinned) == [f"chart/values.yaml:{line_of(values, '  tag: ')}: image.tag is 3.9.4-7, "
                                           f"image/VERSION says {versions.image_version()} (nox -s lint -- --fix "
                                           "writes it)"]
    assert lint.write_versions(pinned) == ["chart/values.yaml"]
    assert values.read_text() == text


@pytest.mark.parametrize("content", ["latest\n", "3.8.4\n", "3.8.4-2\n3.8.5-1\n", "v3.8.4-2\n", "3.8.4-0\n"])
def test_a_malformed_image_version_is_one_located_problem_and_fix_writes_nothing(pinned, content):
    (pinned / "image" / "VERSION").write_text(content)
    assert lint.stale_versions(pinned) == [f"image/VERSION:1: expected one line <ZooKeeper version>-<image build> "
                                           f"such as 3.8.4-2, got {content!r}"]
    assert lint.write_versions(pinned) == []


def test_a_place_that_no_longer_names_the_version_is_reported(pinned):
    kustomization = pinned / "base" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("    newTag: ", "    newTag:  "))
    assert lint.stale_versions(pinned) == [
        r"base/kustomization.yaml: 0 lines match '^    newTag: (\\S+)$'; expected the one naming newTag"]


def commit(repo: Path, subject: str) -> str:
    (repo / "file").write_text(subject)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "add", "file"], check=True, capture_output=True)
    subprocess.run([*git, "commit", "-q", "-m", subject], check=True, capture_output=True)
    return subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def history(tmp_path) -> tuple[Path, str]:
    """A repository whose first commit is the base the rule counts from, with a subject that is too long."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    base = commit(tmp_path, "an old subject from before the rule, " + "x" * 80)
    return tmp_path, base


def test_a_subject_over_72_characters_after_the_base_is_one_line_naming_the_commit(history):
    repo, base = history
    commit(repo, "a" * 72)
    long = commit(repo, "b" * 73)
    assert lint.long_subjects(repo, base) == [f"commit {long}: subject is 73 characters, more than 72: "
                                              f"{'b' * 40}..."]


def test_subjects_at_the_limit_and_those_before_the_base_pass(history):
    repo, base = history
    commit(repo, "c" * 72)
    assert lint.long_subjects(repo, base) == []


def test_a_history_without_the_base_says_it_was_not_checked(history, capsys):
    repo, _ = history
    assert lint.long_subjects(repo, "0" * 40) == []
    assert "commit subjects: not checked" in capsys.readouterr().out


def test_the_repository_s_own_subjects_pass():
    assert lint.long_subjects() == []
