"""The scale scenario for real (local target: containers of the real image, a real writer), and real faults it must
catch: an acknowledged write that disappears, a member that cannot join because it lacks the authority."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tools import REPO_ROOT
from tools.base.profiles import Profile
from tools.smoke.scenarios.scale import ScaleScenario
from tools.smoke.targets.local import LocalTarget

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("zk_image")]

STEPS = ["deploy", "writer-running", "scale-3-to-5", "scale-5-to-3", "rolling-restart", "rolling-restart-again",
         "kill-9-mid-scale-3-to-5", "empty-member-0-cut-off", "scale-5-to-3-again", "scale-3-to-5-to-7-at-once",
         "scale-7-to-5-to-3-back-to-back", "acknowledged-writes-kept", "members-agree"]  # fmt: skip


def test_the_scale_scenario_keeps_every_acknowledged_write_and_reports_its_numbers(engine, tmp_path):
    report_path = tmp_path / "scale.json"
    result = subprocess.run(
        [sys.executable, "-m", "tools.smoke", "--target", "local", "--scenario", "scale", "--report", str(report_path)],
        cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert [step["name"] for step in report["steps"]] == STEPS
    assert {step["result"] for step in report["steps"]} == {"passed"}
    measured = report["measurements"]
    assert measured["acknowledged_writes_lost"] == 0
    assert measured["writes_acknowledged_without_quorum"] == 0
    assert measured["writes_acknowledged"] > 100
    assert 0 < measured["longest_write_gap_seconds"] < 60
    assert measured["unavailable_seconds"] >= 0
    # Elections happen only where a leader goes: none when members join or leave, at least one per rolling restart
    assert measured["scale_3_to_5"]["elections"] == 0 and measured["scale_5_to_3"]["elections"] == 0
    assert all(count >= 1 for count in measured["elections_per_rolling_update"])
    assert measured["kill_mid_scale"]["elections"] >= 1  # the leader was killed
    for key in ("quorum_at_start", "scale_3_to_5", "scale_5_to_3", "rolling_update", "kill_mid_scale",
                "empty_member_cut_off", "scale_3_to_5_to_7", "scale_7_to_5_to_3"):
        assert report["timings"][key] > 0
    # the members scaled away left the voters before they stopped: no gap a client would notice (an election
    # happens only when the leader is one of them)
    assert measured["scale_7_to_5_to_3"]["longest_write_gap_seconds"] <= 5
    assert "acknowledged writes lost: 0" in result.stdout
    run_id = report["target"].rsplit("run ", 1)[1]
    listing = engine.cli("volume", "ls", "--format", "{{.Name}}", timeout=60).stdout.split()
    assert [name for name in listing if name.startswith(f"kz-smoke-{run_id}")] == []


class LosesAWrite(ScaleScenario):
    """A real fault: an acknowledged node is deleted behind the writer's back before the writes are checked."""

    def steps(self):
        chosen = dict(super().steps())
        return [("deploy", chosen["deploy"]), ("writer-running", chosen["writer-running"]),
                ("lose-a-write", self.lose_a_write), ("acknowledged-writes-kept", chosen["acknowledged-writes-kept"])]

    def lose_a_write(self) -> str:
        from kazoo.client import KazooClient

        victim = self.writer.log.acks[5].path
        client = KazooClient(hosts=self.host(0))
        client.start(timeout=30)
        try:
            client.delete(victim)
        finally:
            client.stop()
            client.close()
        return victim


def test_an_acknowledged_write_that_disappears_fails_the_check_by_name(engine):
    target = LocalTarget(engine, Profile("overlay", "kind"))
    scenario = LosesAWrite(target, progress=lambda line: None)
    try:
        report = scenario.run()
    finally:
        target.teardown(keep_volumes=False)
    results = {step.name: step for step in report.steps}
    deleted = results["lose-a-write"].detail
    assert results["acknowledged-writes-kept"].result == "failed"
    assert "1 acknowledged writes lost" in results["acknowledged-writes-kept"].detail
    assert deleted in results["acknowledged-writes-kept"].detail
    assert report.measurements["acknowledged_writes_lost"] == 1


def test_only_a_client_with_the_admin_password_may_reconfigure(engine):
    """The authority is the super user's password: without it ZooKeeper refuses `reconfig` (NoAuth); with it the same
    request passes the ACL and fails only on the stale version it names, so nothing changes."""
    from kazoo.client import KazooClient
    from kazoo.exceptions import BadVersionError, NoAuthError

    target = LocalTarget(engine, Profile("overlay", "kind"))
    scenario = ScaleScenario(target, progress=lambda line: None)
    try:
        scenario.deploy_three()
        before = scenario.memberships([0])[0]
        anyone = KazooClient(hosts=scenario.host(0))
        anyone.start(timeout=30)
        try:
            with pytest.raises(NoAuthError):
                anyone.reconfig(joining=None, leaving="3", new_members=None)
            anyone.add_auth("digest", "super:not-the-password")
            with pytest.raises(NoAuthError):
                anyone.reconfig(joining=None, leaving="3", new_members=None)
        finally:
            anyone.stop()
            anyone.close()
        admin = KazooClient(hosts=scenario.host(0), auth_data=[("digest", f"super:{target.password}")])
        admin.start(timeout=30)
        try:
            with pytest.raises(BadVersionError):
                admin.reconfig(joining=None, leaving="3", new_members=None, from_config=1)
        finally:
            admin.stop()
            admin.close()
        assert scenario.memberships([0, 1, 2]) == {member: before for member in range(3)}
    finally:
        target.teardown(keep_volumes=False)
