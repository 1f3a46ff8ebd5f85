"""`python -m tools.checks.policy` as people and CI run it: bad input, exit codes, report formats."""

from __future__ import annotations

import json
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest

from tests.policy.conftest import FIXTURES, fixture_text
from tools import REPO_ROOT


def policy(*args: str):
    return subprocess.run([sys.executable, "-m", "tools.checks.policy", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)


BAD_INPUT = [
    ("empty.yaml", "", r"empty\.yaml: no Kubernetes objects"),
    ("comments.yaml", "# nothing here\n---\n", r"comments\.yaml: no Kubernetes objects"),
    ("list.yaml", "- name: a\n- name: b\n", r"list\.yaml:1: document 1: expected a Kubernetes object .* got a list"),
    ("plain.yaml", "name: zookeeper\nreplicas: 3\n", r"plain\.yaml:1: document 1: missing apiVersion"),
    ("unknown.yaml", "apiVersion: apps/v1\nkind: StatefulSett\nmetadata:\n  name: zk\n",
     r"unknown\.yaml:1: document 1: unknown kind 'StatefulSett' for apiVersion 'apps/v1'"),
    ("syntax.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: zk\n  labels: {app: zk\n",
     r"syntax\.yaml:6:1: YAML syntax error"),
    ("tabs.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n\tname: zk\n", r"tabs\.yaml:4:1: YAML syntax error"),
    ("second.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\nkind: ConfigMap\n",
     r"second\.yaml:7: document 2: missing apiVersion"),
    ("scalar.yaml", "just some text\n", r"scalar\.yaml:1: document 1: expected a Kubernetes object .* scalar"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_is_a_clear_located_error(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    result = policy("--as", "production", str(tmp_path / name))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: ")
    assert __import__("re").search(message, result.stderr), result.stderr


def test_missing_file_and_no_file(tmp_path):
    result = policy("--as", "production", str(tmp_path / "nope.yaml"))
    assert result.returncode != 0 and "nope.yaml: no such file" in result.stderr
    result = policy("--as", "production")
    assert result.returncode != 0 and "needs at least one manifest file" in result.stderr
    result = policy("--as", "staging", str(FIXTURES / "production.yaml"))
    assert result.returncode == 2 and "invalid choice: 'staging'" in result.stderr
    assert "Traceback" not in result.stderr


def test_clean_file_exits_zero_and_says_so():
    result = policy("--as", "production", str(FIXTURES / "production.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors, 0 warnings" in result.stdout


def test_warnings_never_fail(tmp_path):
    path = tmp_path / "warn.yaml"
    single = (fixture_text("laptop").replace("replicas: 3", "replicas: 1").replace('replicas: "3"', 'replicas: "1"')
              .replace("minAvailable: 2", "maxUnavailable: 1"))
    path.write_text(single)
    result = policy("--as", "kind", str(path))
    assert result.returncode == 0, result.stdout
    assert "ZK-ENS-001" in result.stdout and "warning" in result.stdout and "0 errors, 1 warning" in result.stdout


def test_errors_fail_and_the_table_shows_rule_object_field_location(tmp_path):
    path = tmp_path / "bad.yaml"
    text = fixture_text("production").replace("maxUnavailable: 1", "maxUnavailable: 0")
    path.write_text(text)
    result = policy("--as", "production", str(path))
    assert result.returncode == 1
    row = next(line for line in result.stdout.splitlines() if line.startswith("ZK-PDB-005"))
    line = text.splitlines().index("  maxUnavailable: 0") + 1
    for cell in ("error", "PodDisruptionBudget/zk", "spec.maxUnavailable", f"bad.yaml:{line}", "maxUnavailable: 1"):
        assert cell in row
    assert "1 error, 0 warnings" in result.stdout


def test_json_and_junit_reports_written_atomically(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(fixture_text("production").replace("drop: [ALL]", "drop: []").replace(
        "      automountServiceAccountToken: false\n", ""))
    out = tmp_path / "reports" / "policy.json"
    result = policy("--as", "production", str(path), "--format", "json", "--output", str(out))
    assert result.returncode == 1 and result.stdout == ""
    report = json.loads(out.read_text())
    assert {(f["rule"], f["severity"]) for f in report["findings"]} == {("ZK-SEC-005", "error"),
                                                                        ("ZK-SEC-007", "warning")}
    assert list(report["summary"].values()) == [{"error": 1, "warning": 1}]
    assert report["findings"][0]["location"].endswith(f"bad.yaml:{report['findings'][0]['line']}")
    assert [p.name for p in out.parent.iterdir()] == ["policy.json"]  # no staging file left behind

    junit = tmp_path / "policy.xml"
    assert policy("--as", "production", str(path), "--format", "junit", "--output", str(junit)).returncode == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert int(suite.get("tests")) == len(cases) > 20 and suite.get("failures") == "1"
    assert cases["ZK-SEC-005"].find("failure") is not None
    assert cases["ZK-SEC-007"].find("failure") is None and "warning" in cases["ZK-SEC-007"].find("system-out").text
    assert cases["ZK-PDB-004"].find("failure") is None


def test_files_and_directories_are_checked_together(tmp_path):
    parts = fixture_text("production").split("---\n")
    for index, part in enumerate(parts):
        (tmp_path / f"{index}-object.yaml").write_text(part)
    together = policy("--as", "production", str(tmp_path))
    assert together.returncode == 0, together.stdout + together.stderr
    assert f"(+{len(parts) - 1} more files): 0 errors, 0 warnings" in together.stdout

    statefulset = next(p for p in tmp_path.iterdir() if "kind: StatefulSet" in p.read_text())
    alone = policy("--as", "production", str(statefulset))
    assert alone.returncode == 1
    assert "ConfigMap zk-config, zk-ensemble, which is not among the checked objects" in alone.stdout
    assert "ZK-ENS-002" not in alone.stdout  # the count in a ConfigMap not given is not compared

    empty = tmp_path / "empty-dir"
    empty.mkdir()
    result = policy("--as", "production", str(empty))
    assert result.returncode != 0 and "empty-dir: no *.yaml or *.yml files" in result.stderr


def test_list_rules_names_every_rule():
    from tools.checks.policy import RULES

    result = policy("--list-rules")
    assert result.returncode == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == [rule.id for rule in RULES]
