"""The scale scenario's checks on their own: what `conf` says about the voting set and when members agree (the
writer's checks are in test_writer_units.py). The `conf` replies are in ZooKeeper 3.9.5's format (taken from a member
of the image); the scenario itself runs in test_scale_scenario.py."""

from __future__ import annotations

import pytest

from tools.cli import zookeeper
from tools.smoke.scenarios.scale import agreement_problem

HOST = "zookeeper-{n}.zookeeper-headless.default.svc.cluster.local"


def conf(*voters: int, version: str = "100000006", observers: tuple[int, ...] = ()) -> str:
    """A `conf` reply as ZooKeeper 3.9.5 gives it: settings, then `membership:`, server lines and the version."""
    lines = ["clientPort=2181", "dataDir=/var/lib/zookeeper/data/version-2", "electionPort=3888", "quorumPort=2888",
             "peerType=0", "membership: "]  # fmt: skip
    for member in sorted((*voters, *observers)):
        role = "observer" if member in observers else "participant"
        lines.append(f"server.{member}={HOST.format(n=member - 1)}:2888:3888:{role};0.0.0.0:2181")
    lines.append(f"version={version}")
    return "\n".join(lines) + "\n"


def states(*modes: str) -> dict[int, zookeeper.MemberState]:
    return {member: zookeeper.MemberState(member, mode, "0x100000006") for member, mode in enumerate(modes)}


def test_conf_gives_the_voters_observers_and_version():
    membership = zookeeper.parse_conf(conf(1, 2, 3, observers=(4,), version="300000089"))
    assert membership == zookeeper.Membership(frozenset({1, 2, 3}), frozenset({4}), "300000089")
    assert membership.describe() == "voters {1,2,3} version 300000089 observers [4]"


def test_a_joining_members_own_weight_zero_is_not_a_vote():
    text = conf(1, 2, 3) + "group.1=1:2:3\nweight.1=1\nweight.2=1\nweight.3=0\n"
    assert zookeeper.parse_conf(text).voters == {1, 2}


def test_conf_without_a_membership_is_none():
    assert zookeeper.parse_conf("This ZooKeeper instance is not currently serving requests\n") is None
    assert zookeeper.parse_conf("") is None


def test_a_static_server_line_without_a_role_is_a_voter():
    membership = zookeeper.parse_conf("server.1=zk-0.hl:2888:3888\nserver.2=zk-1.hl:2888:3888\nversion=0\n")
    assert membership.voters == {1, 2}


@pytest.mark.parametrize(("zxid", "epoch"), [("0x100000006", 1), ("0x300000089", 3), ("0x0", 0), ("junk", None)])
def test_the_epoch_is_the_zxids_high_word(zxid, epoch):
    assert zookeeper.epoch(zxid) == epoch


def test_five_members_agreeing_on_five_voters_is_no_problem():
    memberships = {m: zookeeper.parse_conf(conf(1, 2, 3, 4, 5)) for m in range(5)}
    assert agreement_problem({1, 2, 3, 4, 5}, states("follower", "leader", "follower", "follower", "follower"),
                             memberships) == ""


def test_one_member_whose_conf_disagrees_is_named():
    memberships = {m: zookeeper.parse_conf(conf(1, 2, 3, 4, 5, version="200000003")) for m in range(5)}
    memberships[3] = zookeeper.parse_conf(conf(1, 2, 3, 4, version="100000009"))  # missed the last reconfig
    problem = agreement_problem({1, 2, 3, 4, 5}, states("leader", *["follower"] * 4), memberships)
    assert "members disagree" in problem
    assert "member 3: voters {1,2,3,4} version 100000009" in problem


def test_agreeing_on_the_wrong_voting_set_is_a_problem():
    memberships = {m: zookeeper.parse_conf(conf(1, 2, 3, 4, 5)) for m in range(3)}  # 5 -> 3, the gone not yet removed
    problem = agreement_problem({1, 2, 3}, states("leader", "follower", "follower"), memberships)
    assert problem.startswith("voters are not {1,2,3}: member 0: voters {1,2,3,4,5}")


def test_a_non_voting_member_is_not_agreement():
    memberships = {m: zookeeper.parse_conf(conf(1, 2, 3)) for m in range(4)}
    problem = agreement_problem({1, 2, 3, 4}, states("leader", "follower", "follower", "follower"), memberships)
    assert "voters are not {1,2,3,4}" in problem


def test_two_leaders_or_none_and_members_not_serving_are_problems():
    memberships = {m: zookeeper.parse_conf(conf(1, 2, 3)) for m in range(3)}
    assert "2 leaders (0, 2)" in agreement_problem({1, 2, 3}, states("leader", "follower", "leader"), memberships)
    problem = agreement_problem({1, 2, 3}, states("not-serving", "down", "follower"), memberships)
    assert "not serving: 0=not-serving, 1=down" in problem and "0 leaders (none)" in problem
    memberships[1] = None
    assert "no membership in conf from member 1" in agreement_problem(
        {1, 2, 3}, states("leader", "follower", "follower"), memberships)
