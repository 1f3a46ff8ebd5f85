"""The noxfile: any Python from 3.11 up runs every session, a missing interpreter fails the run (never a skip that
exits 0), and a session whose install is current does not reinstall."""

import json
import sys
from pathlib import Path

from tests.nox_cli import nox, session_names


def test_every_session_runs_on_the_python_running_nox():
    names = session_names()
    assert {"validate", "tests", "lint", "image", "policy"} <= set(names)
    result = nox("--list", "--json", "--sessions", *names)
    sessions = json.loads(result.stdout)
    assert {s["name"] for s in sessions} == set(names)
    assert sys.version_info >= (3, 11)
    assert {s["python"] for s in sessions} == {sys.executable}


def test_a_missing_interpreter_fails_the_run_instead_of_skipping(tmp_path):
    result = nox("--sessions", "policy", "--force-python", "3.99", "--envdir", str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Python interpreter 3.99 not found" in output and "skipped" not in output


def test_a_second_run_does_not_reinstall_when_pyproject_is_unchanged(tmp_path):
    first = nox("--sessions", "policy", "--envdir", str(tmp_path), "--", "--list-rules", timeout=900)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "pip install" in first.stderr and "ZK-PDB-001" in first.stdout
    second = nox("--sessions", "policy", "--envdir", str(tmp_path), "--", "--list-rules")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "pip install" not in second.stderr and "already installed (pyproject.toml unchanged)" in second.stderr
    stamp = Path(tmp_path) / "policy" / "kube-zookeeper-install.sha256"
    assert stamp.is_file()
