"""The local smoke scenario for real: three containers of the real image, real ZooKeeper, real volumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tools import REPO_ROOT
from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.smoke.__main__ import finish
from tools.smoke.scenario import Scenario
from tools.smoke.targets.local import LocalTarget

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("zk_image")]

# The scenario of issue 6, in order.
EXPECTED_STEPS = [
    "deploy", "ruok", "roles", "followers-synced", "write", "read-every-member",
    "stop-one-member", "write-one-down", "stop-second-member", "write-refused-without-quorum",
    "restart-both", "refused-write-absent", "remove-ensemble", "recreate-on-same-volumes", "data-survives-recreate",
]  # fmt: skip


def names_with(engine, kind: str, prefix: str) -> list[str]:
    listing = engine.cli(kind, "ls", "--format", "{{.Name}}", timeout=60).stdout.split()
    return [name for name in listing if name.startswith(prefix)]


def test_the_whole_local_scenario_passes_and_cleans_up(engine, tmp_path):
    report_path = tmp_path / "smoke.json"
    result = subprocess.run(
        [sys.executable, "-m", "tools.smoke", "--target", "local", "--report", str(report_path)],
        cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["ok"] is True
    assert [step["name"] for step in report["steps"]] == EXPECTED_STEPS
    assert {step["result"] for step in report["steps"]} == {"passed"}
    assert "result: passed" in result.stdout
    # one leader at start, and the timings the benchmark reports
    assert report["leaders"]["start"] in (0, 1, 2)
    modes = sorted(state["mode"] for state in report["member_states"]["start"])
    assert modes == ["follower", "follower", "leader"]
    for key in ("quorum_at_start", "quorum_after_first_stop", "recovery", "quorum_after_recreate", "scenario_wall"):
        assert report["timings"][key] > 0
    # nothing of the run is left: no containers, volumes or network named after its run id
    run_id = report["target"].rsplit("run ", 1)[1]
    prefix = f"kz-smoke-{run_id}"
    assert names_with(engine, "volume", prefix) == []
    assert names_with(engine, "network", prefix) == []
    assert engine.cli("ps", "--all", "--filter", f"name={prefix}", "--quiet", timeout=60).stdout.strip() == ""


class EmptyVolumesOnRecreate(LocalTarget):
    """A real fault: the ensemble comes back on brand-new, empty data volumes instead of its own."""

    def recreate_ensemble(self) -> None:
        for member in range(self.members):
            self.ensemble.data_volumes[member] = f"{self.prefix}-empty-{member}"
            self.ensemble.create_volume(self.ensemble.data_volumes[member])
        super().recreate_ensemble()


def test_data_lost_on_recreate_fails_the_durability_step_by_name(engine, tmp_path):
    target = EmptyVolumesOnRecreate(engine, Profile("overlay", "kind"))
    try:
        report = Scenario(target, progress=lambda line: None).run()
    finally:
        target.teardown(keep_volumes=False)
    results = {step.name: step.result for step in report.steps}
    assert results["recreate-on-same-volumes"] == "passed"  # the empty ensemble does form a quorum
    assert results["data-survives-recreate"] == "failed"
    assert all(results[name] == "passed" for name in EXPECTED_STEPS[:-1])
    assert "/hello" in report.failed_step.detail
    with pytest.raises(UserError, match=r"^failed: step 'data-survives-recreate' failed: .*/hello"):
        finish([(report, tmp_path / "failed.json")])
    assert json.loads((tmp_path / "failed.json").read_text())["ok"] is False
    assert names_with(engine, "volume", target.prefix) == []
