"""The policy section as `nox -s bench -- policy --repeat 1 --json FILE` runs it: a real, quick run over the rendered
profiles (helm and kubectl render them, as in `nox -s policy`)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tools import REPO_ROOT
from tools.base.errors import ToolMissing
from tools.base.profiles import all_profiles
from tools.cli import helm


@pytest.fixture(scope="module")
def policy_run(tmp_path_factory):
    try:
        helm.binary()  # built once into the shared tool cache; the section renders the chart profiles with it
    except ToolMissing as exc:
        pytest.skip(f"helm is not available: {exc}")
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    result = subprocess.run([sys.executable, "-m", "tools.bench", "policy", "--repeat", "1", "--json", str(path)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, json.loads(path.read_text())


def test_the_json_has_the_policy_measures_with_positive_values_and_units(policy_run):
    _, data = policy_run
    (section,) = data["sections"]
    assert section["section"] == "policy" and section["seconds"] > 0
    assert len(section["load_average"]["start"]) == 3
    measures = {m["name"].split(" (")[0]: m for m in section["measures"]}
    assert list(measures) == ["parse the rendered YAML", "parse + every rule, as `nox -s policy`",
                              "trace a first finding to its source"]
    for measure in measures.values():
        assert measure["value"] > 0 and measure["unit"] == "s", measure
        assert "best of 1" in measure["name"], measure  # --repeat reached the section
    profiles = len(all_profiles())
    overlays = sum(profile.source == "overlay" for profile in all_profiles())
    names = [m["name"] for m in section["measures"]]
    assert f"({profiles} profiles," in names[0] and f"({profiles} profiles," in names[1]
    assert f"({overlays} overlays," in names[2]
    whole = measures["parse + every rule, as `nox -s policy`"]
    assert whole["goal"] == 0.5 and whole["meets"] == (whole["value"] <= 0.5)


def test_the_table_on_stdout_shows_the_same_measures_and_progress_goes_to_stderr(policy_run):
    result, data = policy_run
    lines = result.stdout.splitlines()
    assert lines[0].startswith("## policy (") and "load average" in lines[0]
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| measure ")]
    assert len(rows) == len(data["sections"][0]["measures"]) == 3
    assert all(row.split(" | ")[1].endswith(" s") for row in rows)
    assert "==> bench policy" in result.stderr and "==> bench policy: done in " in result.stderr
    assert "==>" not in result.stdout
