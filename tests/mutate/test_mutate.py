"""The mutation suite's own behaviour: its data applies to today's files, each mistake reaches the checks that can
see it, and an escaped, misattributed or stale mistake fails naming itself."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from tools import REPO_ROOT
from tools.base.errors import UserError
from tools.mutate import (
    IMAGE_TESTS,
    SCHEMA_TESTS,
    TABLE_BLOCK,
    TABLE_DOC,
    Edit,
    Mistake,
    apply,
    checks_for,
    copy_repository,
    load,
    markdown,
    try_mistake,
)
from tools.render import blocks, schemas

MISTAKES = load()
ALL_PROFILES = [f"overlay-{e}" for e in ("minikube", "kind", "openshift", "production")] + [
    "chart-default", *(f"chart-{e}" for e in ("minikube", "kind", "openshift", "production"))]


def kube_versions() -> list[str]:
    versions = schemas.kubernetes_versions()
    return [versions[0], versions[-1]]


def one(file: str, old: str, new: str, caught_by=("ZK-RES-005",), mistake_id="test-mistake") -> Mistake:
    return Mistake(mistake_id, "a test mistake", "it tests the suite", (Edit(file, old, new),), tuple(caught_by))


def test_at_least_25_mistakes_each_with_a_reason_and_an_expected_catcher():
    assert len(MISTAKES) >= 25
    assert len({m.id for m in MISTAKES}) == len(MISTAKES)
    for mistake in MISTAKES:
        assert mistake.why and mistake.mistake and mistake.caught_by, mistake.id


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_every_mistake_still_applies_to_the_files_as_they_are(mistake):
    """A refactor that moves an edit's old text fails here (and in `nox -s mutate`), naming the mistake."""
    for edit in mistake.edits:
        text = (REPO_ROOT / edit.file).read_text()
        assert text.count(edit.old) == 1, f"{mistake.id}: {edit.file}: old text found {text.count(edit.old)} times"
        assert edit.old != edit.new


def test_a_mistake_whose_text_moved_names_itself_and_its_file(tmp_path):
    mistake = one("base/zookeeper.env", "ZOO_SERVERS=3\n", "ZOO_SERVERS=5\n", mistake_id="servers-moved")
    root = copy_repository(REPO_ROOT, tmp_path / "copy")
    (root / "base/zookeeper.env").write_text("ZOO_SERVERS = 3\n")
    with pytest.raises(UserError, match=r"mistake servers-moved: base/zookeeper.env: its old text no longer occurs"):
        apply(mistake, root)


@pytest.mark.parametrize(("file", "profiles", "tests"), [
    ("base/service-client.yaml", [p for p in ALL_PROFILES if p != "chart-default"], []),
    ("components/laptop/kustomization.yaml", ["overlay-minikube", "overlay-kind", "chart-minikube", "chart-kind"],
     []),
    ("chart/ci/kind-values.yaml", ["overlay-kind", "chart-kind"], []),
    ("chart/templates/service-client.yaml", ALL_PROFILES, []),
    ("chart/values.schema.json", ALL_PROFILES, [SCHEMA_TESTS]),
    ("tools/checks/parity.py", ["overlay-kind", "chart-kind"], []),
    ("image/start.sh", [], [IMAGE_TESTS]),
    ("docs/endpoints.yaml", ALL_PROFILES, []),
])
def test_a_mistake_runs_the_checks_its_file_reaches(file, profiles, tests):
    checks = checks_for(one(file, "x", "y"))
    assert (checks.profiles, checks.tests) == (profiles, tests)


def test_a_mistake_no_check_sees_fails_the_suite(tmp_path):
    harmless = one("chart/ci/kind-values.yaml", "# kind (overlays/kind):", "# kind (the kind overlay):")
    outcome = try_mistake(harmless, kube_versions(), tmp_path)
    assert not outcome.caught and outcome.catchers == []
    assert outcome.problem.startswith("ESCAPED")


def test_a_caught_mistake_names_its_catcher_and_a_wrong_expectation_fails(tmp_path):
    request = one("chart/ci/kind-values.yaml", "    memory: 384Mi\n", "    memory: 600Mi\n")
    outcome = try_mistake(request, kube_versions(), tmp_path)
    assert outcome.caught, outcome.problem
    assert outcome.catchers[0] == "ZK-RES-005" and "parity" in outcome.catchers
    misnamed = dataclasses.replace(request, caught_by=("ZK-RES-004",))
    outcome = try_mistake(misnamed, kube_versions(), tmp_path)
    assert not outcome.caught and "not by ZK-RES-004" in outcome.problem
    assert not list(tmp_path.iterdir()), "every copy is removed"


def test_the_mutation_doc_lists_every_mistake():
    """docs/development/mutation.md's table is the generated one (`nox -s mutate -- --write-table` rewrites it)."""
    assert blocks.block(TABLE_BLOCK, TABLE_DOC) == markdown(MISTAKES).strip()


def test_an_unknown_mistake_id_is_a_clean_error():
    result = subprocess.run([sys.executable, "-m", "tools.mutate", "no-such-mistake"], capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "unknown mistake no-such-mistake" in result.stderr
