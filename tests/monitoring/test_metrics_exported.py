"""The rules and the dashboard read only metrics the real image exports: three members of the built image (as a
StatefulSet runs them), each member's :7000 scraped while serving, and again in the states the alerts are about
(out of the quorum, restarted)."""

from __future__ import annotations

import os

import pytest

from tools.checks import alerts
from tools.cli.engine import Engine
from tools.image.ensemble import Ensemble

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ensemble(engine: Engine, zk_image: str):
    members = Ensemble(engine, zk_image, prefix=f"kzk-mon-{os.getpid()}", env={"ZOO_HEAP": "256M"}, memory="512m")
    with members.running():
        yield members


@pytest.fixture(scope="module")
def pages(ensemble) -> dict[str, str]:
    """role (leader, follower) -> a serving member's metrics page."""
    return {ensemble.mode(member): ensemble.metrics(member) for member in range(ensemble.size)}


def exported(pages: dict[str, str]) -> set[str]:
    return set().union(*(alerts.exposition_names(page) for page in pages.values()))


def test_the_image_exports_every_name_the_rules_read(production, pages):
    names = exported(pages)
    assert len(names) > 250, f"only {len(names)} names scraped: {sorted(names)[:20]}"
    for profile, manifests in production.items():
        for alert, used in alerts.rule_metric_names(manifests).items():
            missing = sorted(used - names - set(alerts.FROM_ELSEWHERE))
            assert not missing, f"{profile}: {alert} reads {missing}, which the image does not export"


def test_the_image_exports_every_name_the_dashboard_reads(production, pages):
    for profile, manifests in production.items():
        used = alerts.dashboard_metric_names(manifests)
        assert used, f"{profile}: no dashboard queries found"
        missing = sorted(used - exported(pages) - set(alerts.FROM_ELSEWHERE))
        assert not missing, f"{profile}: the dashboard reads {missing}, which the image does not export"


def test_serving_members_show_what_the_rules_count_on(pages):
    """quorum_size on every serving member, leader_uptime and synced_followers only on the leader."""
    assert sorted(pages) == ["follower", "leader"]
    leader, follower = (alerts.exposition_names(pages[role]) for role in ("leader", "follower"))
    assert {"quorum_size", "leader_uptime", "synced_followers"} <= leader
    assert "quorum_size" in follower and not {"leader_uptime", "synced_followers"} & follower


def test_a_member_out_of_the_quorum_drops_quorum_size_and_a_restart_moves_its_start_time(ensemble):
    """What ZooKeeperMemberNotServing, ZooKeeperNoLeader and ZooKeeperMemberRestarting read, in those states."""
    engine = ensemble.engine
    leader = next(member for member in range(ensemble.size) if ensemble.mode(member) == "leader")
    others = [member for member in range(ensemble.size) if member != leader]
    started = start_time(ensemble.metrics(leader))
    for member in others:
        engine.stop(ensemble.name(member), timeout=20)
    try:
        assert ensemble.wait(lambda: not ensemble.probe(leader, "ready"), timeout=60)
        alone = alerts.exposition_names(ensemble.metrics(leader))
        assert "process_start_time_seconds" in alone  # still scraped, so `up` stays 1
        assert not {"quorum_size", "leader_uptime", "synced_followers"} & alone
    finally:
        for member in others:
            engine.start(ensemble.name(member))
    engine.stop(ensemble.name(leader), timeout=20)
    engine.start(ensemble.name(leader))
    assert ensemble.wait(ensemble.serving, timeout=90)
    assert start_time(ensemble.metrics(leader)) > started


def start_time(page: str) -> float:
    line = next(line for line in page.splitlines() if line.startswith("process_start_time_seconds "))
    return float(line.split()[1])
