"""The writer's exec transport for real: zkCli.sh inside the members of a three-member local ensemble (the local
target's exec, as `kubectl exec` is on a cluster), while the leader is replaced; and a real fault it must catch, an
acknowledged node deleted behind its back. The kazoo transport runs in test_scale_scenario.py."""

from __future__ import annotations

import time

import pytest

from tools.base.profiles import Profile
from tools.cli import zookeeper
from tools.smoke.scenario import Scenario, StepFailed
from tools.smoke.targets.local import LocalTarget
from tools.smoke.writer import ExecTransport, Writer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("zk_image")]


@pytest.fixture(scope="module")
def target(engine):
    local = LocalTarget(engine, Profile("overlay", "kind"))
    try:
        Scenario(local, progress=lambda line: None).deploy()  # returns once all three serve with one leader
        yield local
    finally:
        local.teardown(keep_volumes=False)


def wait_for_acks(writer: Writer, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(writer.log.acks) < count:
        assert time.monotonic() < deadline, f"{len(writer.log.acks)} writes acknowledged in {timeout:.0f} s"
        time.sleep(0.2)


def test_every_write_acknowledged_while_the_leader_is_replaced_is_on_the_leader_and_a_majority(target):
    scenario = Scenario(target, progress=lambda line: None)
    states = scenario.member_states(scenario.everyone)
    leader = next(state.member for state in states if state.mode == "leader")
    with Writer(ExecTransport(target.exec, target.members), root="/kz-writer-replace") as writer:
        wait_for_acks(writer, 3)
        before = len(writer.log.acks)
        target.replace(leader)
        scenario.wait_for_quorum(scenario.everyone, "after_replace")
        wait_for_acks(writer, before + 3)
    detail = writer.verify()
    verdict = writer.verdict
    assert verdict.ok and verdict.lost == [] and verdict.without_quorum == [], detail
    assert verdict.acknowledged >= 6 and verdict.missing_per_member == {0: 0, 1: 0, 2: 0}
    assert verdict.leader_before == leader
    assert verdict.elections is not None and verdict.elections >= 1  # the leader went: someone was elected
    assert verdict.longest_gap > 0 and verdict.unavailable >= 0
    assert f"{verdict.acknowledged} of {verdict.attempts} writes acknowledged" in detail


def test_an_acknowledged_write_deleted_behind_the_writers_back_is_reported_lost(target):
    with Writer(ExecTransport(target.exec, target.members), root="/kz-writer-lost") as writer:
        wait_for_acks(writer, 4)
    victim = writer.log.acks[1].path
    deleted = target.exec(2, zookeeper.zkcli_argv("delete", victim, timeout_seconds=30), 40)  # another client
    assert deleted.code == 0, deleted.stdout + deleted.stderr
    with pytest.raises(StepFailed, match=r"^1 acknowledged writes lost") as failed:
        writer.verify()
    assert victim in str(failed.value)
    assert writer.verdict.lost == [victim]
    assert writer.verdict.missing_per_member == {0: 1, 1: 1, 2: 1}
