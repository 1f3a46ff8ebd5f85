"""The image's scripts, one function at a time (bash: source the script, call a function) and start.sh end to end
with a recording `java` and a fixed `hostname` on PATH. No container engine needed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

IMAGE = Path(__file__).resolve().parents[2] / "image"
START = IMAGE / "start.sh"
ZOO_VARS = [
    "ZOO_SERVERS", "ZOO_DATA_DIR", "ZOO_DATA_LOG_DIR", "ZOO_CONF_DIR", "ZOO_CLIENT_PORT", "ZOO_SERVER_PORT",
    "ZOO_ELECTION_PORT", "ZOO_METRICS_PORT", "ZOO_TICK_TIME", "ZOO_INIT_LIMIT", "ZOO_SYNC_LIMIT", "ZOO_HEAP",
    "ZOO_MAX_CLIENT_CNXNS", "ZOO_SNAP_RETAIN_COUNT", "ZOO_PURGE_INTERVAL", "ZOO_MAX_SESSION_TIMEOUT",
    "ZOO_MIN_SESSION_TIMEOUT", "ZOO_LOG_LEVEL", "ZOO_4LW_COMMANDS_WHITELIST", "ZOO_HEADLESS_SERVICE",
    "ZOO_CLUSTER_DOMAIN", "POD_NAMESPACE", "ZOO_JVM_FLAGS",
]  # fmt: skip


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ZOO_VARS}
    return {**env, **extra}


def bash(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`source image/start.sh; <script>` in a fresh bash; args are $1..."""
    return subprocess.run(
        ["bash", "-c", f'source "{START}"; {script}', "test", *args],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        timeout=30,
        check=False,
    )


def out(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    result = bash(script, *args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("hostname", "myid"),
    [("zk-zookeeper-2", "3"), ("zookeeper-0", "1"), ("zookeeper-10", "11"), ("zookeeper-07", "8"),
     ("zookeeper-1.zookeeper-headless.ns.svc.cluster.local", "2")],
)  # fmt: skip
def test_myid_is_the_ordinal_plus_one(hostname, myid):
    assert out('zk_myid "$1"', hostname) == myid


@pytest.mark.parametrize(
    ("hostname", "statefulset"), [("zk-zookeeper-2", "zk-zookeeper"), ("zookeeper-0", "zookeeper")]
)
def test_statefulset_name_is_the_hostname_without_its_ordinal(hostname, statefulset):
    assert out('zk_statefulset "$1"', hostname) == statefulset


@pytest.mark.parametrize("hostname", ["zookeeper", "zookeeper-", "zookeeper-a", ""])
def test_a_hostname_without_an_ordinal_is_refused_by_name(hostname):
    result = bash('zk_myid "$1"', hostname)
    assert result.returncode != 0
    assert f"hostname '{hostname}'" in result.stderr


def test_server_list_for_three_members():
    lines = out("zk_server_list 3 zookeeper zookeeper-headless default cluster.local 2888 3888").splitlines()
    assert lines == [
        "server.1=zookeeper-0.zookeeper-headless.default.svc.cluster.local:2888:3888",
        "server.2=zookeeper-1.zookeeper-headless.default.svc.cluster.local:2888:3888",
        "server.3=zookeeper-2.zookeeper-headless.default.svc.cluster.local:2888:3888",
    ]


def test_server_list_for_five_members_names_statefulset_service_namespace_and_domain():
    lines = out("zk_server_list 5 zk-zookeeper zk-hl prod corp.example 2889 3889").splitlines()
    assert lines == [f"server.{n + 1}=zk-zookeeper-{n}.zk-hl.prod.svc.corp.example:2889:3889" for n in range(5)]


@pytest.mark.parametrize(
    ("fqdn", "parts"),
    [("zookeeper-0.zookeeper-headless.ns1.svc.cluster.local", ["zookeeper-headless", "ns1", "cluster.local"]),
     ("zk-1.hl.team-a.svc.k8s.corp.example", ["hl", "team-a", "k8s.corp.example"]),
     ("zookeeper-0", ["", "", ""]),
     ("zookeeper-0.example.com", ["", "", ""])],
)  # fmt: skip
def test_headless_service_namespace_and_domain_come_from_the_fqdn(fqdn, parts):
    got = [out('zk_fqdn_part "$1" "$2"', fqdn, field) for field in ("2", "3", "5")]
    assert got == parts


def settings_after(*flags: str, **env: str) -> dict[str, str]:
    script = 'zk_parse_flags "$@"; zk_defaults; for v in ZOO_TICK_TIME ZOO_HEAP ZOO_DATA_DIR; do echo "$v=${!v}"; done'
    text = out(script, *flags, env=clean_env(**env))
    return dict(line.split("=", 1) for line in text.splitlines())


def test_flag_wins_over_environment_which_wins_over_default():
    assert settings_after()["ZOO_TICK_TIME"] == "2000"
    assert settings_after(ZOO_TICK_TIME="2500")["ZOO_TICK_TIME"] == "2500"
    assert settings_after("--tick_time=3000", ZOO_TICK_TIME="2500")["ZOO_TICK_TIME"] == "3000"
    assert settings_after("--tick_time", "3100", ZOO_TICK_TIME="2500")["ZOO_TICK_TIME"] == "3100"


def test_unset_heap_stays_empty_so_it_is_derived():
    assert settings_after()["ZOO_HEAP"] == ""
    assert settings_after("--heap=300M", ZOO_HEAP="200M")["ZOO_HEAP"] == "300M"


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--tick_tim=5"], "--tick_tim"), (["--heap"], "--heap"), (["--heap", "--servers=3"], "--heap"),
     (["servers=3"], "servers=3"), (["--client_port=abc"], "--client_port"), (["--heap=lots"], "--heap"),
     (["--log_level=LOUD"], "--log_level"), (["--servers=0"], "--servers"),
     (["--snap_retain_count=2"], "--snap_retain_count"), (["--data_dir=relative"], "--data_dir")],
)  # fmt: skip
def test_bad_or_missing_flag_is_named_and_exits_non_zero(args, named, tmp_path):
    result = subprocess.run(["bash", START, *args], capture_output=True, text=True, env=clean_env(), timeout=30)
    assert result.returncode != 0
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_every_bad_setting_is_reported_before_exiting():
    result = bash("zk_defaults; zk_validate", env=clean_env(ZOO_CLIENT_PORT="99999", ZOO_TICK_TIME="x", ZOO_HEAP="1T"))
    assert result.returncode == 2
    for name in ("ZOO_CLIENT_PORT='99999'", "ZOO_TICK_TIME='x'", "ZOO_HEAP='1T'"):
        assert name in result.stderr


def test_min_session_timeout_above_max_is_refused():
    result = bash("zk_defaults; zk_validate", env=clean_env(ZOO_MIN_SESSION_TIMEOUT="50000"))
    assert result.returncode == 2
    assert "ZOO_MIN_SESSION_TIMEOUT=50000 is above" in result.stderr


@pytest.mark.parametrize(("limit", "heap"), [("536870912", "256M"), ("1073741824", "512M"), ("", "1000M")])
def test_heap_is_half_the_memory_limit(limit, heap):
    assert out('zk_heap_for_limit "$1"', limit) == heap


def test_memory_limit_is_read_from_cgroup_v2_and_v1(tmp_path):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("536870912\n")
    assert out("zk_memory_limit", env=clean_env(ZK_CGROUP_ROOT=str(v2))) == "536870912"
    (v2 / "memory.max").write_text("max\n")
    assert out("zk_memory_limit", env=clean_env(ZK_CGROUP_ROOT=str(v2))) == ""
    v1 = tmp_path / "v1" / "memory"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text("402653184\n")
    assert out("zk_memory_limit", env=clean_env(ZK_CGROUP_ROOT=str(v1.parent))) == "402653184"
    (v1 / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "no limit"
    assert out("zk_memory_limit", env=clean_env(ZK_CGROUP_ROOT=str(v1.parent))) == ""


# -- start.sh end to end, with `hostname` answering like a pod and `java` recording its command line ---------------
@pytest.fixture
def pod(tmp_path):
    """A PATH with fake `hostname` (a pod of StatefulSet zk-zookeeper) and `java`; data/conf under tmp_path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "hostname").write_text(
        '#!/bin/sh\nif [ "$1" = -f ]; then echo "$FAKE_FQDN"; else echo "${FAKE_FQDN%%.*}"; fi\n'
    )
    (bin_dir / "java").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/java-args"\n'
                                  f'umask > "{tmp_path}/java-umask"\n')
    for tool in ("hostname", "java"):
        (bin_dir / tool).chmod(0o755)

    def start(*flags: str, fqdn="zk-zookeeper-2.zk-hl.team-a.svc.corp.local", **env: str):
        environ = clean_env(
            PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_FQDN=fqdn, ZK_CGROUP_ROOT=str(tmp_path / "no-cgroup"),
            ZOO_DATA_DIR=str(tmp_path / "data"), ZOO_CONF_DIR=str(tmp_path / "conf"), **env,
        )  # fmt: skip
        # A strict umask, as a container runtime may give: start.sh must set its own.
        return subprocess.run(["bash", "-c", 'umask 0077 && exec bash "$0" "$@"', START, *flags],
                              capture_output=True, text=True, env=environ, timeout=30)

    return start, tmp_path


def zoo_cfg(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "conf" / "zoo.cfg").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_start_writes_config_myid_and_execs_java_with_the_given_heap(pod):
    start, tmp = pod
    result = start("--servers=3", "--heap=300M", "--tick_time=2500", ZOO_TICK_TIME="9999", ZOO_METRICS_PORT="7001")
    assert result.returncode == 0, result.stderr
    cfg = zoo_cfg(tmp)
    assert cfg["server.1"] == "zk-zookeeper-0.zk-hl.team-a.svc.corp.local:2888:3888"
    assert cfg["server.3"] == "zk-zookeeper-2.zk-hl.team-a.svc.corp.local:2888:3888"
    assert "server.4" not in cfg
    assert cfg["tickTime"] == "2500"
    assert cfg["autopurge.purgeInterval"] == "12"
    assert "autopurge.purgeInteval" not in cfg
    assert cfg["quorumListenOnAllIPs"] == "true"
    assert cfg["admin.enableServer"] == "false"
    assert cfg["metricsProvider.className"] == "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
    assert cfg["metricsProvider.httpPort"] == "7001"
    assert set(cfg["4lw.commands.whitelist"].split(",")) >= {"ruok", "srvr", "mntr"}
    assert (tmp / "data" / "myid").read_text().strip() == "3"
    java_args = (tmp / "java-args").read_text().splitlines()
    assert "-Xmx300M" in java_args
    assert java_args[-2:] == ["org.apache.zookeeper.server.quorum.QuorumPeerMain", str(tmp / "conf" / "zoo.cfg")]


def test_start_leaves_what_it_writes_group_writable_for_the_next_uid(pod):
    """OpenShift may start the next run under another uid in group 0: umask 0002 keeps data and config writable."""
    start, tmp = pod
    result = start("--servers=3")
    assert result.returncode == 0, result.stderr
    assert (tmp / "java-umask").read_text().strip() == "0002"  # what ZooKeeper inherits for its snapshots and logs
    for written in (tmp / "data", tmp / "conf", tmp / "data" / "myid", tmp / "conf" / "zoo.cfg"):
        assert written.stat().st_mode & 0o020, f"{written} is not group-writable"


def test_environment_overrides_the_fqdn_parts(pod):
    start, tmp = pod
    result = start(fqdn="zookeeper-1", ZOO_SERVERS="3", POD_NAMESPACE="ns9", ZOO_CLUSTER_DOMAIN="k.local")
    assert result.returncode == 0, result.stderr
    assert zoo_cfg(tmp)["server.2"] == "zookeeper-1.zookeeper-headless.ns9.svc.k.local:2888:3888"


def test_heap_is_derived_from_the_memory_limit_when_unset(pod):
    start, tmp = pod
    cgroup = tmp / "no-cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text(str(512 * 1024 * 1024))
    assert start(ZOO_HEAP="").returncode == 0
    assert "-Xmx256M" in (tmp / "java-args").read_text().splitlines()


def test_a_mounted_zoo_cfg_is_left_alone_and_a_debian_myid_link_replaced(pod):
    start, tmp = pod
    (tmp / "conf").mkdir()
    (tmp / "conf" / "zoo.cfg").write_text("tickTime=1234\n")
    (tmp / "data").mkdir()
    (tmp / "data" / "myid").symlink_to("/etc/zookeeper/conf/myid")
    result = start("--servers=3")
    assert result.returncode == 0, result.stderr
    assert (tmp / "conf" / "zoo.cfg").read_text() == "tickTime=1234\n"
    assert not (tmp / "data" / "myid").is_symlink()
    assert (tmp / "data" / "myid").read_text().strip() == "3"


def test_a_volume_of_another_member_is_refused(pod):
    start, tmp = pod
    (tmp / "data").mkdir()
    (tmp / "data" / "myid").write_text("1\n")
    result = start("--servers=3")
    assert result.returncode != 0
    assert "myid says 1" in result.stderr


def test_member_beyond_the_ensemble_size_is_refused(pod):
    start, _ = pod
    result = start("--servers=3", fqdn="zookeeper-3.zookeeper-headless.ns.svc.cluster.local")
    assert result.returncode != 0
    assert "ZOO_SERVERS=3" in result.stderr


@pytest.mark.parametrize(("args", "message"), [([], "usage"), (["abc"], "PORT"), (["2181", "maybe"], "maybe")])
def test_probe_usage_errors(args, message):
    result = subprocess.run(["bash", IMAGE / "ready_live.sh", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert message in result.stderr


def test_probe_fails_when_nothing_listens():
    # Port 1 on loopback: nothing of ours listens there, the connection is refused at once.
    for mode in ("live", "ready"):
        probe = ["bash", IMAGE / "ready_live.sh", "1", mode]
        result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
        assert result.returncode == 1
        assert "not " + mode in result.stderr


# -- ready_live.sh against a fake ZooKeeper that answers four-letter words as 3.9 does ---------------------------
SERVING = "Zookeeper version: 3.9.5\nLatency min/avg/max: 0/0.0/0\nReceived: 3\nSent: 2\nConnections: 1\n" \
          "Outstanding: 0\nZxid: 0x100000000\nMode: {mode}\nNode count: 5\n"
NOT_SERVING = "This ZooKeeper instance is not currently serving requests\n"


@pytest.fixture
def fake_zookeeper():
    """A TCP server on loopback answering each four-letter word from `replies`; `words` records what it was sent."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    state = {"replies": {}, "words": []}
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                word = conn.recv(4).decode()
                state["words"].append(word)
                conn.sendall(state["replies"].get(word, f"{word} is not executed because it is not in the "
                                                         "whitelist.\n").encode())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def probe(mode: str, **replies: str) -> subprocess.CompletedProcess[str]:
        state["replies"], state["words"] = replies, []
        port = str(server.getsockname()[1])
        return subprocess.run(["bash", IMAGE / "ready_live.sh", port, mode], capture_output=True, text=True,
                              timeout=30)

    yield probe, state
    stop.set()
    thread.join()
    server.close()


def test_live_is_ruok_answering_imok(fake_zookeeper):
    probe, state = fake_zookeeper
    assert probe("live", ruok="imok").returncode == 0
    assert state["words"] == ["ruok"]


def test_live_fails_when_ruok_is_not_whitelisted(fake_zookeeper):
    probe, _ = fake_zookeeper
    result = probe("live", srvr=SERVING.format(mode="follower"))
    assert result.returncode == 1 and "not live: ruok" in result.stderr and "whitelist" in result.stderr


@pytest.mark.parametrize("mode", ["leader", "follower", "observer", "standalone"])
def test_ready_is_srvr_saying_the_member_serves(fake_zookeeper, mode):
    probe, state = fake_zookeeper
    assert probe("ready", ruok="imok", srvr=SERVING.format(mode=mode)).returncode == 0
    assert state["words"] == ["srvr"]


def test_imok_without_a_quorum_is_live_but_not_ready(fake_zookeeper):
    """A member with no quorum still answers imok: readiness must not take that for serving."""
    probe, _ = fake_zookeeper
    assert probe("live", ruok="imok", srvr=NOT_SERVING).returncode == 0
    result = probe("ready", ruok="imok", srvr=NOT_SERVING)
    assert result.returncode == 1
    assert "not ready: srvr" in result.stderr and "not currently serving" in result.stderr


def test_ready_fails_on_an_unknown_mode(fake_zookeeper):
    probe, _ = fake_zookeeper
    assert probe("ready", srvr=SERVING.format(mode="looking")).returncode == 1
