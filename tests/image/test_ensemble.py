"""The built image on a real three-member ensemble of containers, as a StatefulSet runs it: hostnames zookeeper-N,
static addresses with every member's FQDN in /etc/hosts, the base ConfigMap's settings (no ZOO_SERVERS: the
membership is dynamic, born from member 0), the ensemble ConfigMap and admin Secret mounted, heap 256M in a 512 MiB
limit (the kind profile), and the OpenShift-style arbitrary uid in group 0 on a read-only root filesystem."""

from __future__ import annotations

import os
import re
from dataclasses import replace

import pytest

from tools.cli.engine import Engine
from tools.image.ensemble import Ensemble

pytestmark = pytest.mark.slow

ARBITRARY_USER = "1000680000:0"


@pytest.fixture(scope="module")
def ensemble(engine: Engine, zk_image: str):
    members = Ensemble(
        engine,
        zk_image,
        prefix=f"kzk-it-{os.getpid()}",
        env={"ZOO_HEAP": "256M"},
        user=ARBITRARY_USER,
        read_only=True,
        memory="512m",
    )
    with members.running():
        yield members


def java_command_line(engine: Engine, container: str) -> list[str]:
    """PID 1's argv: start.sh execs java, so PID 1 is the JVM."""
    result = engine.exec(container, ["cat", "/proc/1/cmdline"])
    return result.stdout.split("\0")


def prometheus_metric(members: Ensemble, member: int, metric: str) -> float:
    """One sample from the member's Prometheus endpoint on port 7000 (asked from inside the member)."""
    page = members.metrics(member)
    match = re.search(rf"^{re.escape(metric)} (\S+)$", page, re.MULTILINE)
    assert match, f"{metric} not on :7000/metrics; page starts:\n{page[:500]}"
    return float(match.group(1))


def test_every_member_is_live(ensemble):
    for member in range(3):
        assert ensemble.four_letter(member, "ruok") == "imok"
        assert ensemble.probe(member, "live")


def test_one_leader_and_two_followers(ensemble):
    modes = sorted(ensemble.mode(member) for member in range(3))
    assert modes == ["follower", "follower", "leader"]


def test_the_leader_sees_both_followers_synced(ensemble):
    leader = next(member for member in range(3) if ensemble.mode(member) == "leader")
    mntr = dict(line.split("\t", 1) for line in ensemble.four_letter(leader, "mntr").splitlines() if "\t" in line)
    assert mntr["zk_server_state"] == "leader"
    assert float(mntr["zk_synced_followers"]) == 2  # the Prometheus provider prints 2.0
    assert ensemble.engine.exec(ensemble.name(leader), ["metrics.sh", "2181"]).code == 0


def test_each_member_got_its_myid_and_every_member_votes_in_the_membership_on_its_volume(ensemble):
    for member in range(3):
        name = ensemble.name(member)
        assert ensemble.engine.exec(name, ["cat", "/var/lib/zookeeper/data/myid"]).stdout.strip() == str(member + 1)
        conf = ensemble.four_letter(member, "conf").splitlines()
        assert "server.3=zookeeper-2.zookeeper-headless.kzk-test.svc.cluster.local:2888:3888:participant;0.0.0.0:2181" \
            in conf
        assert sum(line.startswith("server.") for line in conf) == 3
        cfg = ensemble.engine.exec(name, ["cat", "/opt/zookeeper/conf/zoo.cfg"]).stdout.splitlines()
        dynamic = next(line.split("=", 1)[1] for line in cfg if line.startswith("dynamicConfigFile="))
        assert dynamic.startswith("/var/lib/zookeeper/data/zoo.cfg.dynamic.")  # on the volume: survives the pod
        assert ensemble.engine.exec(name, ["cat", dynamic]).stdout.splitlines() == [
            line for line in conf if line.startswith("server.")]


def test_a_write_through_one_member_is_read_through_every_member(ensemble):
    cli = ["zkCli.sh", "-server", "127.0.0.1:2181"]
    created = ensemble.engine.exec(ensemble.name(0), [*cli, "create", "/image-test", "written-by-0"], timeout=60)
    assert created.code == 0, created.stderr
    for member in range(3):
        read = ensemble.engine.exec(ensemble.name(member), [*cli, "get", "/image-test"], timeout=60)
        assert read.code == 0, read.stderr
        assert read.stdout.strip().splitlines()[-1] == "written-by-0"
    missing = ensemble.engine.exec(ensemble.name(1), [*cli, "get", "/no-such-node"], timeout=60)
    assert missing.code != 0


def test_runs_as_the_arbitrary_uid_on_a_read_only_root(ensemble):
    name = ensemble.name(0)
    assert ensemble.engine.exec(name, ["id", "-u"]).stdout.strip() == ARBITRARY_USER.split(":")[0]
    assert ensemble.engine.exec(name, ["touch", "/opt/zookeeper/lib/x"]).code != 0  # the root fs is read-only


def test_explicit_heap_is_what_the_jvm_runs_with(ensemble):
    name = ensemble.name(1)
    argv = java_command_line(ensemble.engine, name)
    assert argv[0] == "java"
    assert "-Xmx256M" in argv
    assert prometheus_metric(ensemble, 1, 'jvm_memory_bytes_max{area="heap",}') == 256 * 1024 * 1024


def test_the_jvm_maps_the_jdks_and_the_images_class_data_archives(ensemble):
    maps = ensemble.engine.exec(ensemble.name(2), ["cat", "/proc/1/maps"]).stdout
    assert "/opt/java/lib/server/classes.jsa" in maps
    assert "/opt/zookeeper/lib/server.jsa" in maps


def test_probes_over_loopback_leave_no_info_line_but_other_addresses_still_log(ensemble):
    """The probes and metrics.sh (127.0.0.1) are silent at INFO; the same word from another member's address logs."""
    engine, name = ensemble.engine, ensemble.name(0)
    for command in (["ready_live.sh", "2181", "live"], ["ready_live.sh", "2181", "ready"], ["metrics.sh", "2181"]):
        assert engine.exec(name, command).code == 0
    peer = ensemble.address(1)
    script = f'exec 3<>/dev/tcp/{ensemble.address(0)}/2181 && printf srvr >&3 && cat <&3'
    assert "Mode: " in engine.exec(ensemble.name(1), ["bash", "-c", script]).stdout
    assert ensemble.wait(lambda: f"Processing srvr command from /{peer}:" in engine.logs(name), timeout=10)
    logs = engine.logs(name)
    assert "Processing ruok command from /127.0.0.1" not in logs
    assert "command from /127.0.0.1" not in logs


def test_a_member_cut_off_from_the_quorum_is_live_but_not_ready_until_it_rejoins(ensemble):
    engine = ensemble.engine
    for member in (1, 2):
        engine.stop(ensemble.name(member), timeout=20)
    try:
        # 143 = the JVM ended on SIGTERM (start.sh execs it); 137 would mean the engine had to SIGKILL it
        assert engine.inspect(ensemble.name(1), "{{.State.ExitCode}}") == "143"
        assert ensemble.wait(lambda: not ensemble.probe(0, "ready"), timeout=60), "member 0 stayed ready alone"
        assert ensemble.probe(0, "live")  # the JVM still answers imok
        assert "not currently serving requests" in ensemble.four_letter(0, "srvr")
    finally:
        for member in (1, 2):
            engine.start(ensemble.name(member))
    assert ensemble.wait(lambda: ensemble.probe(0, "ready"), timeout=90), "member 0 did not become ready again"
    assert ensemble.wait(ensemble.serving, timeout=90)


# -- single members ------------------------------------------------------------------------------------------------
@pytest.fixture
def standalone(engine: Engine, zk_image: str, request):
    """A one-member 'ensemble' (ZOO_SERVERS=1): runs start.sh's standalone path; removed afterwards."""
    created: list[Ensemble] = []

    def make(env: dict[str, str | None] | None = None, **options) -> Ensemble:
        member = Ensemble(engine, zk_image, prefix=f"kzk-it-{os.getpid()}-{len(created)}", size=1,
                          env={"ZOO_SERVERS": "1", **(env or {})}, **options)
        created.append(member)
        return member

    yield make
    for member in created:
        member.destroy()


def test_heap_is_derived_from_the_memory_limit_when_unset(standalone):
    member = standalone(env={"ZOO_HEAP": None}, memory="400m")
    member.create()
    member.start_all()
    assert member.wait(member.serving, timeout=90), member.engine.logs(member.name(0))[-2000:]
    assert member.mode(0) == "standalone"
    argv = java_command_line(member.engine, member.name(0))
    assert "-Xmx200M" in argv
    assert prometheus_metric(member, 0, 'jvm_memory_bytes_max{area="heap",}') == 200 * 1024 * 1024


def test_a_volume_written_by_uid_1000_serves_an_arbitrary_uid_later(standalone):
    first = standalone(env={"ZOO_HEAP": "128M"})  # the image's own user, 1000:0
    first.create()
    first.start_all()
    assert first.wait(first.serving, timeout=90), first.engine.logs(first.name(0))[-2000:]
    cli = ["zkCli.sh", "-server", "127.0.0.1:2181"]
    assert first.engine.exec(first.name(0), [*cli, "create", "/owner", "uid-1000"], timeout=60).code == 0
    first.remove(0)  # keep the volume and network

    first.template = replace(first.template, user=ARBITRARY_USER, read_only=True)
    first.run_member(0)
    assert first.wait(first.serving, timeout=90), first.engine.logs(first.name(0))[-2000:]
    read = first.engine.exec(first.name(0), [*cli, "get", "/owner"], timeout=60)
    assert read.stdout.strip().splitlines()[-1] == "uid-1000"
    assert first.engine.exec(first.name(0), [*cli, "create", "/second", "arbitrary"], timeout=60).code == 0


def test_a_whitelist_without_ruok_is_refused_at_start_with_one_line(standalone):
    """Liveness sends ruok: a whitelist without it would restart the member forever, so start.sh refuses it."""
    member = standalone(env={"ZOO_4LW_COMMANDS_WHITELIST": "srvr,mntr,conf"}, user=ARBITRARY_USER, read_only=True)
    member.create()
    member.start_all()
    name = member.name(0)
    assert member.wait(lambda: member.engine.inspect(name, "{{.State.Status}}") == "exited", timeout=60)
    assert member.engine.inspect(name, "{{.State.ExitCode}}") == "2"
    logs = member.engine.cli("logs", name, timeout=60)
    assert logs.stdout == ""
    assert logs.stderr.splitlines() == [
        "error: ZOO_4LW_COMMANDS_WHITELIST='srvr,mntr,conf' lacks ruok: liveness sends ruok, readiness srvr and "
        "metrics.sh mntr, so the member would fail its probes; add ruok (or use *)"
    ]


def test_at_debug_the_probes_lines_are_logged_again(standalone):
    member = standalone(env={"ZOO_LOG_LEVEL": "DEBUG", "ZOO_HEAP": "128M"})
    member.create()
    member.start_all()
    assert member.wait(member.serving, timeout=90), member.engine.logs(member.name(0))[-2000:]
    assert member.probe(0, "live")
    assert member.wait(lambda: "Processing ruok command from /127.0.0.1:" in member.engine.logs(member.name(0)), 10)
