"""The image's scripts, one function at a time (bash: source the script, call a function) and start.sh end to end
with a recording `java` and a fixed `hostname` on PATH. No container engine needed."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.certs import make_ca, make_member_cert

IMAGE = Path(__file__).resolve().parents[2] / "image"
START = IMAGE / "start.sh"
ZOO_VARS = [
    "ZOO_SERVERS", "ZOO_DATA_DIR", "ZOO_DATA_LOG_DIR", "ZOO_CONF_DIR", "ZOO_CLIENT_PORT", "ZOO_SERVER_PORT",
    "ZOO_ELECTION_PORT", "ZOO_METRICS_PORT", "ZOO_TICK_TIME", "ZOO_INIT_LIMIT", "ZOO_SYNC_LIMIT", "ZOO_HEAP",
    "ZOO_MAX_CLIENT_CNXNS", "ZOO_SNAP_RETAIN_COUNT", "ZOO_PURGE_INTERVAL", "ZOO_MAX_SESSION_TIMEOUT",
    "ZOO_MIN_SESSION_TIMEOUT", "ZOO_LOG_LEVEL", "ZOO_4LW_COMMANDS_WHITELIST", "ZOO_HEADLESS_SERVICE",
    "ZOO_CLUSTER_DOMAIN", "POD_NAMESPACE", "ZOO_JVM_FLAGS", "ZOO_SECURE_CLIENT_PORT", "ZOO_TLS_CLIENT_AUTH",
    "ZOO_TLS_DIR",
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


def test_a_members_line_names_statefulset_service_namespace_domain_and_ports():
    env = clean_env(ZK_STS="zk-zookeeper", ZK_PEER_DOMAIN="zk-hl.prod.svc.corp.example", ZOO_SERVER_PORT="2889",
                    ZOO_ELECTION_PORT="3889", ZOO_CLIENT_PORT="2182")
    assert out("zk_member_line 5", env=env) == \
        "server.5=zk-zookeeper-4.zk-hl.prod.svc.corp.example:2889:3889:participant;0.0.0.0:2182"
    assert out("zk_member_line 1 observer", env=env).endswith(":2889:3889:observer;0.0.0.0:2182")


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
    script = 'zk_parse_flags "$@"; zk_defaults; for v in ZOO_TICK_TIME ZOO_HEAP ZOO_DATA_DIR; do '
    script += 'echo "$v=${!v-unset}"; done'
    text = out(script, *flags, env=clean_env(**env))
    return dict(line.split("=", 1) for line in text.splitlines())


def test_flag_wins_over_environment_which_wins_over_default():
    assert settings_after()["ZOO_TICK_TIME"] == "2000"
    assert settings_after(ZOO_TICK_TIME="2500")["ZOO_TICK_TIME"] == "2500"
    assert settings_after("--tick_time=3000", ZOO_TICK_TIME="2500")["ZOO_TICK_TIME"] == "3000"
    assert settings_after("--tick_time", "3100", ZOO_TICK_TIME="2500")["ZOO_TICK_TIME"] == "3100"


def test_unset_heap_stays_unset_so_it_is_derived():
    assert settings_after()["ZOO_HEAP"] == "unset"
    assert settings_after("--heap=300M", ZOO_HEAP="200M")["ZOO_HEAP"] == "300M"


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--tick_tim=5"], "--tick_tim"), (["--heap"], "--heap"), (["--heap", "--servers=1"], "--heap"),
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


@pytest.mark.parametrize(
    ("limit", "heap"),
    [("536870912", "256M"), ("1073741824", "512M"), ("", "1000M"),
     (str(256 << 20), "128M"), (str(200 << 20), "72M")],  # small limits: what the 128Mi headroom leaves
)  # fmt: skip
def test_heap_is_half_the_memory_limit_within_the_headroom(limit, heap):
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


# -- zk_validate: every setting that would split, crash-loop or OOM the ensemble is refused before the JVM starts --
MIB = 1024 * 1024
NOT_EMPTY = [
    "ZOO_SERVERS", "ZOO_DATA_DIR", "ZOO_CONF_DIR", "ZOO_CLIENT_PORT", "ZOO_SERVER_PORT", "ZOO_ELECTION_PORT",
    "ZOO_METRICS_PORT", "ZOO_TICK_TIME", "ZOO_INIT_LIMIT", "ZOO_SYNC_LIMIT", "ZOO_HEAP", "ZOO_MAX_CLIENT_CNXNS",
    "ZOO_SNAP_RETAIN_COUNT", "ZOO_PURGE_INTERVAL", "ZOO_MAX_SESSION_TIMEOUT", "ZOO_MIN_SESSION_TIMEOUT",
    "ZOO_LOG_LEVEL", "ZOO_4LW_COMMANDS_WHITELIST", "ZOO_HEADLESS_SERVICE", "POD_NAMESPACE", "ZOO_CLUSTER_DOMAIN",
]  # fmt: skip


def cgroup(tmp_path: Path, version: int, limit_bytes: int | None) -> str:
    """A fake cgroup root holding a memory limit the way cgroup v2 (memory.max) or v1 (memory/...) shows it."""
    root = tmp_path / f"cgroup-v{version}"
    value = str(limit_bytes) if limit_bytes is not None else ("max" if version == 2 else "9223372036854771712")
    if version == 2:
        root.mkdir(exist_ok=True)
        (root / "memory.max").write_text(value + "\n")
    else:
        (root / "memory").mkdir(parents=True, exist_ok=True)
        (root / "memory" / "memory.limit_in_bytes").write_text(value + "\n")
    return str(root)


def validate(*flags: str, cgroup_root: str = "/nonexistent", **env: str) -> subprocess.CompletedProcess[str]:
    """zk_parse_flags + zk_defaults + zk_validate on the given settings; prints ZK_HEAP when they pass."""
    script = 'zk_parse_flags "$@"; zk_defaults; zk_validate; echo "heap=$ZK_HEAP"'
    return bash(script, *flags, env=clean_env(ZK_CGROUP_ROOT=cgroup_root, **env))


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert all(line.startswith("error: ") for line in lines), result.stderr  # one line per setting, nothing else
    return lines


@pytest.mark.parametrize("var", NOT_EMPTY)
def test_an_empty_setting_is_an_error_not_its_default(var):
    [line] = error_lines(validate(**{var: ""}))
    assert f"{var} is empty" in line


def test_an_empty_flag_is_an_error_naming_the_flag():
    [line] = error_lines(validate("--servers=", "--client_port=2181"))
    assert line == "error: --servers/ZOO_SERVERS is empty; leave it unset for the default, or give a value"


def test_unset_settings_take_their_defaults_and_pass():
    result = validate()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "heap=1000M"  # no memory limit: ZooKeeper's own default


@pytest.mark.parametrize(
    ("whitelist", "missing"),
    [("srvr,mntr,conf", "ruok"), ("ruok,mntr", "srvr"), ("ruok,srvr", "mntr"), ("stat", "ruok,srvr,mntr"),
     ("ruok srvr", "mntr"), ("ruok,srvr,mntr*", "mntr")],
)  # fmt: skip
def test_a_whitelist_without_the_probes_words_is_refused_naming_them(whitelist, missing):
    [line] = error_lines(validate(ZOO_4LW_COMMANDS_WHITELIST=whitelist))
    assert f"ZOO_4LW_COMMANDS_WHITELIST='{whitelist}' lacks {missing}:" in line


@pytest.mark.parametrize("whitelist", ["*", "ruok,srvr,mntr", "mntr, srvr, ruok, conf", "stat,*"])
def test_a_whitelist_with_the_probes_words_or_a_star_passes(whitelist):
    result = validate(ZOO_4LW_COMMANDS_WHITELIST=whitelist)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({"ZOO_METRICS_PORT": "2181"}, "--metrics_port/ZOO_METRICS_PORT=2181 is also --client_port/ZOO_CLIENT_PORT"),
     ({"ZOO_ELECTION_PORT": "2888"}, "--election_port/ZOO_ELECTION_PORT=2888 is also --server_port/ZOO_SERVER_PORT"),
     ({"ZOO_SERVER_PORT": "02181"}, "--server_port/ZOO_SERVER_PORT=02181 is also --client_port/ZOO_CLIENT_PORT")],
)  # fmt: skip
def test_two_equal_ports_are_refused(settings, expected):
    [line] = error_lines(validate(**settings))
    assert expected in line


def test_three_equal_ports_give_a_line_for_each_repeat():
    lines = error_lines(validate(ZOO_SERVER_PORT="2181", ZOO_METRICS_PORT="2181"))
    assert len(lines) == 2
    assert "ZOO_SERVER_PORT=2181 is also" in lines[0] and "ZOO_METRICS_PORT=2181 is also" in lines[1]


@pytest.mark.parametrize("version", [1, 2])
def test_a_heap_above_the_limit_less_headroom_is_refused_on_cgroup_v1_and_v2(version, tmp_path):
    root = cgroup(tmp_path, version, 1024 * MIB)
    [line] = error_lines(validate(cgroup_root=root, ZOO_HEAP="4G"))
    assert line.startswith("error: --heap/ZOO_HEAP=4G plus headroom")
    assert "memory limit of 1024Mi" in line and "at most 768M" in line
    [line] = error_lines(validate(cgroup_root=root, ZOO_HEAP="769M"))
    assert "at most 768M" in line
    result = validate(cgroup_root=root, ZOO_HEAP="768M")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "heap=768M"


@pytest.mark.parametrize("version", [1, 2])
def test_no_cgroup_limit_leaves_only_the_machines_memory(version, tmp_path):
    root = cgroup(tmp_path, version, None)
    assert validate(cgroup_root=root, ZOO_HEAP="4G").returncode == 0
    [line] = error_lines(validate(cgroup_root=root, ZOO_HEAP="99999999G"))
    assert "more than the node's memory" in line


@pytest.mark.parametrize(("heap", "ok"), [("64k", False), ("63M", False), ("65535k", False), ("64M", True),
                                          ("65536k", True), ("1g", True)])  # fmt: skip
def test_the_heap_has_a_64m_floor(heap, ok):
    result = validate(ZOO_HEAP=heap)
    if ok:
        assert result.returncode == 0, result.stderr
    else:
        [line] = error_lines(result)
        assert f"--heap/ZOO_HEAP={heap} is below the 64M minimum" in line


def test_an_xmx_in_the_jvm_flags_is_the_heap_that_is_checked(tmp_path):
    root = cgroup(tmp_path, 2, 512 * MIB)
    [line] = error_lines(validate(cgroup_root=root, ZOO_HEAP="256M", ZOO_JVM_FLAGS="-XX:+UseG1GC -Xmx1G"))
    assert line.startswith("error: ZOO_JVM_FLAGS -Xmx1G plus headroom")
    result = validate(cgroup_root=root, ZOO_HEAP="256M", ZOO_JVM_FLAGS="-Xmx300M")
    assert result.stdout.strip() == "heap=300M"


@pytest.mark.parametrize("limit_mib", [160, 100, 64])
def test_a_derived_heap_that_would_fall_below_the_floor_is_refused(limit_mib, tmp_path):
    [line] = error_lines(validate(cgroup_root=cgroup(tmp_path, 1, limit_mib * MIB)))
    assert f"memory limit of {limit_mib}Mi leaves no 64M heap" in line and "at least 192Mi" in line


def test_the_smallest_limit_with_a_derived_heap_is_192mi(tmp_path):
    result = validate(cgroup_root=cgroup(tmp_path, 2, 192 * MIB))
    assert result.stdout.strip() == "heap=64M"


@pytest.mark.parametrize("limit_mib", [192, 256, 300, 512, 1024, 2048, 8192])
def test_the_heap_ceiling_is_policy_zk_res_004s(limit_mib):
    """start.sh's shell arithmetic and the policy rule's headroom() give the same largest heap for a limit."""
    from tools.checks.policy.rules import headroom

    limit = limit_mib * MIB
    assert int(out('zk_max_heap_mib "$1"', str(limit))) == int((limit - headroom(limit)) // MIB)


def test_every_bad_setting_gets_its_own_line_before_the_exit(tmp_path):
    result = validate(
        "--servers=", cgroup_root=cgroup(tmp_path, 2, 1024 * MIB), ZOO_CLIENT_PORT="", ZOO_METRICS_PORT="2888",
        ZOO_4LW_COMMANDS_WHITELIST="srvr,mntr", ZOO_HEAP="4G", ZOO_TICK_TIME="x",
    )  # fmt: skip
    lines = error_lines(result)
    assert len(lines) == 6, lines
    for named in ("ZOO_SERVERS is empty", "ZOO_CLIENT_PORT is empty", "ZOO_METRICS_PORT=2888 is also",
                  "lacks ruok", "ZOO_HEAP=4G plus headroom", "ZOO_TICK_TIME='x'"):  # fmt: skip
        assert sum(named in line for line in lines) == 1, (named, lines)


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

    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "password").write_text(PASSWORD)
    (tmp_path / "replicas").write_text("3\n")

    def start(*flags: str, fqdn="zk-zookeeper-2.zk-hl.team-a.svc.corp.local", **env: str):
        environ = clean_env(
            PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_FQDN=fqdn, ZK_CGROUP_ROOT=str(tmp_path / "no-cgroup"),
            ZOO_DATA_DIR=str(tmp_path / "data"), ZOO_CONF_DIR=str(tmp_path / "conf"),
            ZOO_ADMIN_PASSWORD_FILE=str(tmp_path / "admin" / "password"), ZOO_REPLICAS_FILE=str(tmp_path / "replicas"),
            ZOO_STATE_DIR=str(tmp_path / "state"), ZOO_TLS_DIR=str(tmp_path / "tls"), **env,
        )  # fmt: skip
        # A strict umask, as a container runtime may give: start.sh must set its own.
        return subprocess.run(["bash", "-c", 'umask 0077 && exec bash "$0" "$@"', START, *flags],
                              capture_output=True, text=True, env=environ, timeout=30)

    return start, tmp_path


PASSWORD = "s3cret-Pw_1"
THREE_VOTERS = "".join(f"server.{n}=zk-zookeeper-{n - 1}.zk-hl.team-a.svc.corp.local:2888:3888:participant;"
                       f"0.0.0.0:2181\n" for n in (1, 2, 3))


def zoo_cfg(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "conf" / "zoo.cfg").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def volume_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """The data volume as an earlier run left it."""
    data = tmp_path / "data"
    (data / "version-2").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (data / name).write_text(text)
    return data


def test_start_writes_config_myid_and_execs_java_with_the_given_heap(pod):
    start, tmp = pod
    volume_with(tmp, {"zoo.cfg.dynamic.100000006": THREE_VOTERS, "zoo.cfg.dynamic.100000003": "server.1=old\n"})
    result = start("--heap=300M", "--tick_time=2500", ZOO_TICK_TIME="9999", ZOO_METRICS_PORT="7001")
    assert result.returncode == 0, result.stderr
    cfg = zoo_cfg(tmp)
    assert (tmp / "conf" / "zoo.cfg").resolve() == tmp / "data" / "zoo.cfg"  # ZooKeeper's membership files go there
    assert cfg["dynamicConfigFile"] == str(tmp / "data" / "zoo.cfg.dynamic.100000006")  # the newest
    assert cfg["reconfigEnabled"] == "true" and cfg["standaloneEnabled"] == "false"
    assert not any(key.startswith("server.") for key in cfg)  # the membership lives in the dynamic file only
    assert "skipACL" not in (tmp / "data" / "zoo.cfg").read_text()
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
    digest = base64.b64encode(hashlib.sha1(f"super:{PASSWORD}".encode()).digest()).decode()
    assert f"-Dzookeeper.DigestAuthenticationProvider.superDigest=super:{digest}" in java_args
    assert java_args[-2:] == ["org.apache.zookeeper.server.quorum.QuorumPeerMain", str(tmp / "data" / "zoo.cfg")]


def test_an_election_looks_again_every_second_unless_the_user_says_otherwise(pod):
    """ZooKeeper backs an election off up to 60 s; peers whose names resolve a few seconds late cost 12 s of birth."""
    start, tmp = pod
    flag = "-Dzookeeper.fastleader.maxNotificationInterval="
    assert start().returncode == 0
    assert [arg for arg in (tmp / "java-args").read_text().splitlines() if arg.startswith(flag)] == [flag + "1000"]
    assert start(ZOO_JVM_FLAGS=flag + "5000").returncode == 0
    given = [arg for arg in (tmp / "java-args").read_text().splitlines() if arg.startswith(flag)]
    assert given == [flag + "1000", flag + "5000"]  # the JVM takes the last one: the user's


def test_start_leaves_what_it_writes_group_writable_for_the_next_uid(pod):
    """OpenShift may start the next run under another uid in group 0: umask 0002 keeps data and config writable."""
    start, tmp = pod
    result = start(fqdn="zk-zookeeper-0.zk-hl.team-a.svc.corp.local")  # founds: writes every file itself
    assert result.returncode == 0, result.stderr
    assert (tmp / "java-umask").read_text().strip() == "0002"  # what ZooKeeper inherits for its snapshots and logs
    data = tmp / "data"
    for written in (data, tmp / "conf", data / "myid", data / "zoo.cfg", data / "zoo.cfg.dynamic.0"):
        assert written.stat().st_mode & 0o020, f"{written} is not group-writable"


FOUNDERS = "".join(f"server.{n}=zookeeper-{n - 1}.zookeeper-headless.ns9.svc.k.local:2888:3888:participant;"
                   f"0.0.0.0:2181\n" for n in (1, 2, 3))


@pytest.mark.parametrize("ordinal", [0, 1, 2])
def test_every_empty_member_below_the_count_founds_the_ensemble_from_the_same_membership_at_once(pod, ordinal):
    """No timer, no member deciding alone: each founder starts from members 1..3 as voters, version 0, and
    ZooKeeper's election needs two of them."""
    start, tmp = pod
    result = start(fqdn=f"zookeeper-{ordinal}", POD_NAMESPACE="ns9", ZOO_CLUSTER_DOMAIN="k.local")
    assert result.returncode == 0, result.stderr
    assert f"member {ordinal + 1} founds the ensemble with members 1..3 as voters" in result.stderr
    assert zoo_cfg(tmp)["dynamicConfigFile"] == str(tmp / "data" / "zoo.cfg.dynamic.0")
    assert (tmp / "data" / "zoo.cfg.dynamic.0").read_text() == FOUNDERS
    assert (tmp / "state" / "phase").read_text().split()[0] == "running"


def test_without_a_mounted_count_member_0_founds_a_one_voter_ensemble(pod):
    start, tmp = pod
    (tmp / "replicas").unlink()
    result = start(fqdn="zookeeper-0", POD_NAMESPACE="ns9", ZOO_CLUSTER_DOMAIN="k.local")
    assert result.returncode == 0, result.stderr
    assert (tmp / "data" / "zoo.cfg.dynamic.0").read_text() == FOUNDERS.splitlines(keepends=True)[0]


def test_an_empty_member_above_the_founders_waits_live_not_ready_and_stops_at_once_on_sigterm(pod):
    """Member 4 of replicas=3 (being scaled away, or the count not yet raised): it waits for a leader, which is on
    purpose, so liveness passes and readiness says why; SIGTERM ends the wait at once (bash as PID 1 would
    otherwise sit out the grace period)."""
    import signal
    import time

    start, tmp = pod
    environ = {"ZOO_STATE_DIR": str(tmp / "state")}
    process = subprocess.Popen(["bash", "-c", 'exec bash "$0" "$@"', START],
                               env=clean_env(PATH=f"{tmp / 'bin'}:{os.environ['PATH']}",
                                             FAKE_FQDN="zk-zookeeper-3.zk-hl.team-a.svc.corp.local",
                                             ZK_CGROUP_ROOT=str(tmp / "no-cgroup"), ZOO_DATA_DIR=str(tmp / "data"),
                                             ZOO_CONF_DIR=str(tmp / "conf"), **environ,
                                             ZOO_ADMIN_PASSWORD_FILE=str(tmp / "admin" / "password"),
                                             ZOO_REPLICAS_FILE=str(tmp / "replicas")),
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not (tmp / "state" / "phase").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        phase = (tmp / "state" / "phase").read_text().split()
        assert phase[:2] == ["waiting", str(process.pid)]
        probe = {mode: subprocess.run(["bash", IMAGE / "ready_live.sh", "1", mode], capture_output=True, text=True,
                                      env=clean_env(**environ), timeout=30) for mode in ("live", "ready")}
        assert probe["live"].returncode == 0 and "live, waiting on purpose" in probe["live"].stderr
        assert probe["ready"].returncode == 1
        assert "replicas=3 leaves member 4 out of the founders" in probe["ready"].stderr
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 143
        assert time.monotonic() - sent < 3
    finally:
        process.kill()
        process.wait()
    assert "stopped (SIGTERM) before ZooKeeper started" in process.stderr.read()
    assert not (tmp / "java-args").exists()


def test_a_volume_of_the_static_image_becomes_the_zoo_servers_members_at_version_0(pod):
    """Migration: data written under ZOO_SERVERS=3 and no dynamic file yet, no leader to ask: members 1..3 vote."""
    start, tmp = pod
    data = volume_with(tmp, {"myid": "3\n", "version-2/snapshot.0": "", "version-2/log.100000001": ""})
    result = start(ZOO_SERVERS="3")
    assert result.returncode == 0, result.stderr
    assert "a volume of the static-config image" in result.stderr
    assert (data / "zoo.cfg.dynamic.0").read_text() == THREE_VOTERS
    assert (data / "version-2" / "snapshot.0").exists()  # the data stays
    assert zoo_cfg(tmp)["dynamicConfigFile"] == str(data / "zoo.cfg.dynamic.0")


def test_without_zoo_servers_the_migration_takes_the_desired_count(pod):
    start, tmp = pod
    data = volume_with(tmp, {"version-2/snapshot.0": ""})
    (tmp / "replicas").write_text("5\n")
    assert start().returncode == 0
    assert len((data / "zoo.cfg.dynamic.0").read_text().splitlines()) == 5


def test_data_without_any_member_count_is_refused_with_one_line(pod):
    start, tmp = pod
    volume_with(tmp, {"version-2/snapshot.0": ""})
    (tmp / "replicas").unlink()
    result = start()
    assert result.returncode == 2
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert "holds data but no membership" in line and "ZOO_SERVERS" in line
    assert not (tmp / "java-args").exists()


def test_a_member_missing_from_its_membership_joins_with_weight_0(pod):
    """Scaled down earlier (or never added): it starts as a non-voting follower of the voters it knows."""
    start, tmp = pod
    data = volume_with(tmp, {"zoo.cfg.dynamic.200000004": "".join(
        line + "\n" for line in THREE_VOTERS.splitlines() if not line.startswith("server.3="))})
    result = start()
    assert result.returncode == 0, result.stderr
    assert "member 3 is not a voter of membership 200000004 yet" in result.stderr
    joining = data / "zoo.cfg.joining.0"  # version 0: no voter ever takes this private view for a newer one
    assert zoo_cfg(tmp)["dynamicConfigFile"] == str(joining)
    lines = joining.read_text().splitlines()
    assert "group.1=1:2:3" in lines and "weight.1=1" in lines and "weight.2=1" in lines and "weight.3=0" in lines
    assert "server.3=zk-zookeeper-2.zk-hl.team-a.svc.corp.local:2888:3888:participant;0.0.0.0:2181" in lines


@pytest.mark.parametrize(("password", "says"), [(None, "is missing"), ("\n", "is empty"),
                                                ("two words", "whitespace inside the password")])  # fmt: skip
def test_no_authority_to_reconfigure_is_refused_with_one_line(pod, password, says):
    start, tmp = pod
    if password is None:
        (tmp / "admin" / "password").unlink()
    else:
        (tmp / "admin" / "password").write_text(password)
    result = start()
    assert result.returncode == 2
    assert result.stderr.splitlines() == [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {tmp / 'admin' / 'password'} ") and says in line
    assert not (tmp / "java-args").exists()


def test_standalone_needs_no_authority(pod):
    start, tmp = pod
    (tmp / "admin" / "password").unlink()
    result = start(ZOO_SERVERS="1")
    assert result.returncode == 0, result.stderr
    assert zoo_cfg(tmp)["standaloneEnabled"] == "true"
    assert not any(arg.startswith("-Dzookeeper.DigestAuthentication")
                   for arg in (tmp / "java-args").read_text().splitlines())


def test_heap_is_derived_from_the_memory_limit_when_unset(pod):
    start, tmp = pod
    cgroup = tmp / "no-cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text(str(512 * 1024 * 1024))
    assert start(fqdn="zookeeper-0").returncode == 0
    assert "-Xmx256M" in (tmp / "java-args").read_text().splitlines()


def test_a_mounted_zoo_cfg_is_left_alone_and_a_debian_myid_link_replaced(pod):
    start, tmp = pod
    (tmp / "conf").mkdir()
    (tmp / "conf" / "zoo.cfg").write_text("tickTime=1234\n")
    (tmp / "data").mkdir()
    (tmp / "data" / "myid").symlink_to("/etc/zookeeper/conf/myid")
    result = start()
    assert result.returncode == 0, result.stderr
    assert (tmp / "conf" / "zoo.cfg").read_text() == "tickTime=1234\n"
    assert not (tmp / "data" / "myid").is_symlink()
    assert (tmp / "data" / "myid").read_text().strip() == "3"
    assert "no ensemble loop" in result.stderr


def test_a_volume_of_another_member_is_refused(pod):
    start, tmp = pod
    (tmp / "data").mkdir()
    (tmp / "data" / "myid").write_text("1\n")
    result = start()
    assert result.returncode != 0
    assert "myid says 1" in result.stderr


def test_an_empty_zoo_servers_writes_nothing_and_starts_nothing(pod):
    start, tmp = pod
    result = start(ZOO_SERVERS="")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: --servers/ZOO_SERVERS is empty; leave it unset for the default, or give a value"
    ]
    assert not (tmp / "data" / "myid").exists()
    assert not (tmp / "conf" / "zoo.cfg").exists()
    assert not (tmp / "java-args").exists()


def test_zoo_servers_without_an_ordinal_in_the_hostname_is_refused(pod):
    start, _ = pod
    result = start("--servers=3", fqdn="zookeeper.example.com")
    assert result.returncode == 2
    assert "ZOO_SERVERS=3 needs a StatefulSet hostname" in result.stderr


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
def fake_zookeeper(tmp_path):
    """A TCP server on loopback answering each four-letter word from `replies`; `words` records what it was sent.
    The probes' state directory is tmp_path / "state"."""
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
        return subprocess.run(["bash", IMAGE / "ready_live.sh", state["port"], mode], capture_output=True, text=True,
                              env=clean_env(ZOO_STATE_DIR=str(tmp_path / "state")), timeout=30)

    state["port"] = str(server.getsockname()[1])

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
    assert state["words"] == ["srvr", "conf"]  # conf not whitelisted: no membership to be a voter of


# `conf` of a member of a dynamic membership, as ZooKeeper 3.8 prints it (after its own settings).
CONF = ("clientPort=2181\nserverId={id}\ninitLimit=10\npeerType=0\nmembership: \n"
        "server.1=zk-0.zk-hl:2888:3888:participant;0.0.0.0:2181\n"
        "server.2=zk-1.zk-hl:2888:3888:participant;0.0.0.0:2181\n{extra}version=100000003\n")


@pytest.mark.parametrize(
    ("server_id", "extra", "ready"),
    [("1", "", True), ("2", "", True),
     ("3", "", False),  # serving, but not in the membership yet
     ("3", "server.3=zk-2.zk-hl:2888:3888:observer;0.0.0.0:2181\n", False),
     ("3", "server.3=zk-2.zk-hl:2888:3888:participant;0.0.0.0:2181\n", True),
     ("3", "server.3=zk-2.zk-hl:2888:3888:participant;0.0.0.0:2181\ngroup.1=1:2:3\nweight.1=1\nweight.2=1\n"
           "weight.3=0\n", False)],  # the joining view: itself with weight 0
)  # fmt: skip
def test_ready_needs_a_dynamic_member_to_be_a_voter(fake_zookeeper, server_id, extra, ready):
    """A joining member serves as a non-voting follower; Ready must wait until it votes, or the PDB would count it."""
    probe, _ = fake_zookeeper
    result = probe("ready", srvr=SERVING.format(mode="follower"), conf=CONF.format(id=server_id, extra=extra))
    assert (result.returncode == 0) is ready, result.stderr
    if not ready:
        assert f"member {server_id} serves but is not yet a voter" in result.stderr


def test_imok_without_a_quorum_is_live_but_not_ready(fake_zookeeper):
    """A member with no quorum still answers imok: readiness must not take that for serving."""
    probe, _ = fake_zookeeper
    assert probe("live", ruok="imok", srvr=NOT_SERVING).returncode == 0
    result = probe("ready", ruok="imok", srvr=NOT_SERVING)
    assert result.returncode == 1
    assert "not ready: srvr" in result.stderr and "not currently serving" in result.stderr


def test_a_member_that_sees_another_leader_is_not_ready_and_names_it(fake_zookeeper, tmp_path):
    probe, _ = fake_zookeeper
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "other-leader").write_text("3\n")
    result = probe("ready", srvr=SERVING.format(mode="leader"))
    assert result.returncode == 1 and "member 3 leads too (two ensembles)" in result.stderr


def test_a_stale_waiting_phase_does_not_keep_a_dead_member_live(fake_zookeeper, tmp_path):
    """The pid in the phase file is gone (the container restarted): only ruok counts."""
    probe, _ = fake_zookeeper
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "phase").write_text("waiting 4194303 waiting for a leading peer\n")
    result = probe("live", srvr=SERVING.format(mode="follower"))
    assert result.returncode == 1 and "not live: ruok" in result.stderr


def test_a_leader_marks_another_leader_it_finds_and_clears_it_when_it_is_gone(fake_zookeeper, tmp_path):
    """zk_watch_leaders asks each peer's srvr; the peer here is the fake ZooKeeper, answering as a leader."""
    _, state = fake_zookeeper
    membership = "server.1=a:2888:3888:participant;0.0.0.0:2181\nserver.2=b:2888:3888:participant;0.0.0.0:2181\n"
    env = clean_env(ZK_MYID="1", ZOO_CLIENT_PORT=state["port"], ZOO_STATE_DIR=str(tmp_path / "state"),
                    ZOO_LEADER_CHECK_TICKS="1", ZOO_REPLICAS_FILE=str(tmp_path / "none"))
    watch = 'zk_member_host() { echo 127.0.0.1; }; zk_watch_leaders "$1" "$2"'
    state["replies"] = {"srvr": SERVING.format(mode="leader")}
    result = bash(watch, "leader", membership, env=env)
    assert (tmp_path / "state" / "other-leader").read_text() == "2\n"
    assert "member 2 leads too: two ensembles" in result.stderr
    state["replies"] = {"srvr": SERVING.format(mode="follower")}
    bash(watch, "leader", membership, env=env)
    assert not (tmp_path / "state" / "other-leader").exists()
    state["replies"] = {"srvr": SERVING.format(mode="leader")}
    bash(watch, "follower", membership, env=env)  # only a leader asks
    assert not (tmp_path / "state" / "other-leader").exists()


def test_ready_fails_on_an_unknown_mode(fake_zookeeper):
    probe, _ = fake_zookeeper
    assert probe("ready", srvr=SERVING.format(mode="looking")).returncode == 1


# -- image/ensemble.sh: the membership functions start.sh and the ensemble loop use --------------------------------
@pytest.mark.parametrize(
    ("voters", "desired", "refused"),
    [(3, "5", ""), (5, "3", ""), (4, "5", ""), (4, "3", ""), (5, "7", ""), (1, "5", ""), (2, "3", ""), (3, "3", ""),
     (3, "7", ""), (5, "11", ""),  # growth: members join one at a time, each synced before it votes
     (3, "1", "replicas 3 -> 1 changes 2 members at once, more than the 3-member ensemble can lose (1)"),
     (7, "3", "replicas 7 -> 3 changes 4 members at once, more than the 7-member ensemble can lose (3)"),
     (3, "4", "replicas=4 is even"),
     (1, "2", "replicas=2 is even"),
     (3, "three", "replicas 'three' in"), (3, "", "replicas '' in"), (3, "0", "replicas '0' in")],
)  # fmt: skip
def test_a_step_the_quorum_cannot_absorb_is_refused_with_one_line(voters, desired, refused):
    said = out('zk_step_refusal "$1" "$2"', str(voters), desired)
    if refused:
        assert said.startswith(refused) and "\n" not in said
    else:
        assert said == ""


def test_the_voters_are_the_participants_of_a_membership():
    membership = (THREE_VOTERS + "server.4=zk-zookeeper-3.zk-hl:2888:3888:observer;0.0.0.0:2181\n"
                  "server.7=zk-zookeeper-6.zk-hl:2888:3888\nversion=300000089\n")  # fmt: skip
    assert out('zk_voters "$1"', membership) == "1 2 3 7"
    assert out('zk_membership_version "$1"', membership) == "300000089"
    assert out('zk_member_address "$1" 2', membership) == "zk-zookeeper-1.zk-hl.team-a.svc.corp.local"


def test_the_membership_of_a_conf_reply_is_its_server_lines_and_version():
    reply = "clientPort=2181\npeerType=0\nmembership: \n" + THREE_VOTERS + "version=100000006\n"
    result = subprocess.run(["bash", "-c", f'source "{START}"; zk_membership'], input=reply, capture_output=True,
                            text=True, env=clean_env(), timeout=30)  # fmt: skip
    assert result.stdout == THREE_VOTERS + "version=100000006\n"


def test_the_newest_dynamic_file_is_the_highest_hex_version_and_pruning_keeps_three(tmp_path):
    for version in ("0", "100000003", "10000000b", "100000009", "2", "ff"):
        (tmp_path / f"zoo.cfg.dynamic.{version}").write_text("server.1=x\n")
    (tmp_path / "zoo.cfg.dynamic.next").write_text("server.1=x\n")  # ZooKeeper's proposal in flight: never chosen
    env = clean_env(ZOO_DATA_DIR=str(tmp_path))
    assert out("zk_newest_dynamic", env=env) == str(tmp_path / "zoo.cfg.dynamic.10000000b")
    out(f'ZK_DYNAMIC_FILE="{tmp_path}/zoo.cfg.dynamic.2"; zk_prune_dynamic', env=env)
    kept = sorted(path.name for path in tmp_path.iterdir())
    assert kept == ["zoo.cfg.dynamic.100000003", "zoo.cfg.dynamic.100000009", "zoo.cfg.dynamic.10000000b",
                    "zoo.cfg.dynamic.2", "zoo.cfg.dynamic.next"]  # the three newest and the one in use  # fmt: skip


def test_a_member_asks_every_lower_ordinal_the_desired_count_and_its_volumes_members(tmp_path):
    (tmp_path / "replicas").write_text("5\n")
    newest = tmp_path / "zoo.cfg.dynamic.1"
    newest.write_text("server.1=a\nserver.7=b\n")
    env = clean_env(ZK_MYID="3", ZOO_REPLICAS_FILE=str(tmp_path / "replicas"))
    assert out('zk_candidates "$1"', str(newest), env=env).split() == ["1", "2", "4", "5", "7"]
    env["ZOO_REPLICAS_FILE"] = str(tmp_path / "none")
    assert out('zk_candidates ""', env=env).split() == ["1", "2"]


def test_the_super_digest_is_zookeepers_base64_sha1_of_super_and_the_password():
    digest = base64.b64encode(hashlib.sha1(b"super:" + PASSWORD.encode()).digest()).decode()
    assert out('zk_super_digest "$1"', PASSWORD) == digest


@pytest.mark.parametrize(("setting", "value", "says"), [("ZOO_ENSEMBLE_INTERVAL", "0", "is not a positive integer"),
                                                        ("ZOO_ENSEMBLE_INTERVAL", "3s", "is not a positive integer"),
                                                        ("ZOO_LEADER_CHECK_TICKS", "0", "is not a positive integer")])
def test_the_ensemble_loops_timings_are_checked(setting, value, says):
    [line] = error_lines(validate(**{setting: value}))
    assert line == f"error: {setting}='{value}' {says}"


# -- leave.sh, the pre-stop hook -----------------------------------------------------------------------------------

LEAVE = IMAGE / "leave.sh"


def test_the_pre_stop_hook_hands_memberleave_this_member_and_the_password_on_stdin(pod):
    """leave.sh marks the member as stopping, runs MemberLeave with myid = ordinal + 1, the StatefulSet's name, the
    namespace, the mounted count and its time budget, the password on stdin only, and says the tool's line."""
    _, tmp_path = pod
    (tmp_path / "bin" / "java").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/java-args"\ncat > "{tmp_path}/java-stdin"\n'
        'echo "member 3 left the voters before stopping"\n'
    )
    env = clean_env(PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}", FAKE_FQDN="zk-zookeeper-2.zk-hl",
                    POD_NAMESPACE="team-a", ZOO_STATE_DIR=str(tmp_path / "state"),
                    ZOO_ADMIN_PASSWORD_FILE=str(tmp_path / "admin" / "password"),
                    ZOO_REPLICAS_FILE=str(tmp_path / "replicas"))
    result = subprocess.run(["bash", str(LEAVE)], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "leave.sh: member 3 left the voters before stopping"
    args = (tmp_path / "java-args").read_text().split()
    assert args[args.index("io.kubezookeeper.admin.MemberLeave") + 1:] == [
        "127.0.0.1:2181", "3", "zk-zookeeper", "team-a", str(tmp_path / "replicas"), "20"]
    assert PASSWORD not in " ".join(args) and (tmp_path / "java-stdin").read_text().strip() == PASSWORD
    assert (tmp_path / "state" / "stopping").exists()


def test_a_stopping_member_makes_no_more_changes_and_its_next_start_clears_the_mark(pod, tmp_path):
    start, _ = pod
    state = tmp_path / "state"
    state.mkdir()
    (state / "stopping").write_text("")
    env = clean_env(ZK_MYID="3", ZOO_STATE_DIR=str(state), ZOO_CLIENT_PORT="1")
    result = bash('zk_4lw() { echo "asked $2" >&2; }; zk_ensemble_tick', env=env)
    assert "asked" not in result.stderr  # not even srvr: the tick returns before it looks
    assert "the pod stops (leave.sh ran): no more changes from member 3" in result.stderr
    start(ZOO_HEAP="256m")
    assert not (state / "stopping").exists()


# -- TLS (image/tls.sh) ----------------------------------------------------------------------------------------------

MEMBER_NAME = "zk-zookeeper-2.zk-hl.team-a.svc.corp.local"  # the pod fixture's FQDN
WILDCARD = "*.zk-hl.team-a.svc.corp.local"


@pytest.fixture
def tls(tmp_path):
    """A CA and a certificate for every member of the pod fixture's ensemble, mounted where start.sh looks."""
    ca = make_ca(tmp_path / "ca")
    return make_member_cert(tmp_path / "tls", ca, [WILDCARD, "zk-zookeeper-client.team-a.svc"]), ca


def tls_problems(tls_dir: Path, name: str = MEMBER_NAME) -> list[str]:
    env = clean_env(ZOO_TLS_DIR=str(tls_dir))
    result = bash('zk_tls_problems "$1"', name, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_certificate_for_the_members_names_signed_by_the_ca_passes(tls):
    assert tls_problems(tls[0]) == []


def test_each_unusable_tls_file_is_one_line_naming_it(tls, tmp_path):
    tls_dir, ca = tls
    other_ca = make_ca(tmp_path / "other-ca", "another CA")
    cases = {
        "missing": (lambda d: (d / "tls.key").unlink(), "tls.key missing or unreadable: TLS needs tls.crt, tls.key"),
        "foreign key": (lambda d: make_member_cert(tmp_path / "spare", ca, [WILDCARD]) and (d / "tls.key").write_bytes(
            (tmp_path / "spare" / "tls.key").read_bytes()), "tls.key is not the key of"),
        "expired": (lambda d: make_member_cert(d, ca, [WILDCARD], days=-1), "tls.crt expired on"),
        "other CA": (lambda d: make_member_cert(d, other_ca, [WILDCARD]) and (d / "ca.crt").write_bytes(
            (ca / "ca.crt").read_bytes()), "tls.crt is not signed by the CA in"),
        "other names": (lambda d: make_member_cert(d, ca, ["*.elsewhere.svc"]),
                        f"does not cover this member's name {MEMBER_NAME} (its names: DNS:*.elsewhere.svc)"),
    }
    for case, (spoil, says) in cases.items():
        directory = tmp_path / case.replace(" ", "-")
        shutil.copytree(tls_dir, directory)
        spoil(directory)
        problems = tls_problems(directory)
        assert len(problems) == 1 and says in problems[0] and str(directory) in problems[0], (case, problems)


def test_with_tls_files_start_writes_tls_for_clients_and_quorum_and_plaintext_on_loopback(pod, tls):
    start, tmp_path = pod
    result = start(ZOO_HEAP="256m")
    assert result.returncode == 0, result.stderr
    cfg = zoo_cfg(tmp_path)
    store = tmp_path / "state" / "tls"
    assert cfg["secureClientPort"] == "2281" and cfg["sslQuorum"] == "true"
    assert cfg["serverCnxnFactory"] == "org.apache.zookeeper.server.NettyServerCnxnFactory"
    assert cfg["ssl.clientAuth"] == "need" and cfg["ssl.quorum.hostnameVerification"] == "true"
    assert cfg["client.certReload"] == "true" and cfg["sslQuorumReloadCertFiles"] == "true"
    for prefix in ("ssl", "ssl.quorum"):
        assert cfg[f"{prefix}.keyStore.location"] == str(store / "keystore.pem")
        assert cfg[f"{prefix}.keyStore.type"] == cfg[f"{prefix}.trustStore.type"] == "PEM"
        assert cfg[f"{prefix}.enabledProtocols"] == "TLSv1.3,TLSv1.2"
    keystore = (store / "keystore.pem").read_text()
    # ZooKeeper's PEM reader takes PKCS#8 only: cert-manager's PKCS#1 RSA key is converted
    assert keystore.startswith("-----BEGIN PRIVATE KEY-----") and "BEGIN RSA PRIVATE KEY" not in keystore
    assert "BEGIN CERTIFICATE" in keystore and oct((store / "keystore.pem").stat().st_mode & 0o777) == "0o600"
    assert (store / "truststore.pem").read_bytes() == (tls[0] / "ca.crt").read_bytes()
    dynamic = (tmp_path / "data" / cfg["dynamicConfigFile"].rsplit("/", 1)[1]).read_text()
    assert dynamic.splitlines()[0].endswith(";127.0.0.1:2181")  # the plaintext port stays inside the pod
    assert "TLS on: clients on port 2281" in result.stderr


def test_unusable_tls_files_stop_the_start_before_java_with_one_line_each(pod, tls):
    start, tmp_path = pod
    (tls[0] / "tls.key").unlink()
    result = start(ZOO_HEAP="256m")
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line.startswith("error: ")] == [
        f"error: {tls[0] / 'tls.key'} missing or unreadable: TLS needs tls.crt, tls.key and ca.crt in {tls[0]} (a "
        "kubernetes.io/tls Secret with ca.crt, as cert-manager writes it)"]
    assert not (tmp_path / "java-args").exists()


def test_a_renewed_certificate_is_installed_and_a_bad_one_refused_keeping_the_old(pod, tls):
    start, tmp_path = pod
    assert start(ZOO_HEAP="256m").returncode == 0
    store = tmp_path / "state" / "tls"
    env = clean_env(ZOO_TLS_DIR=str(tls[0]), ZOO_STATE_DIR=str(tmp_path / "state"))
    refresh = f'zk_tls_refresh "{MEMBER_NAME}"'
    assert bash(refresh, env=env).stdout == ""  # nothing changed
    first = (store / "keystore.pem").read_text()
    make_member_cert(tls[0], tls[1], [WILDCARD])  # the renewal: a new key and certificate
    said = bash(refresh, env=env).stdout
    assert "changed: installed for ZooKeeper to reload" in said
    renewed = (store / "keystore.pem").read_text()
    assert renewed != first and (tls[0] / "tls.crt").read_text() in renewed
    make_member_cert(tls[0], tls[1], ["*.elsewhere.svc"])
    said = bash(refresh, env=env).stdout
    assert "changed but are refused, the ones in use stay" in said and "does not cover" in said
    assert (store / "keystore.pem").read_text() == renewed


def test_with_tls_the_members_ask_each_other_over_tls():
    env = clean_env(ZOO_SECURE_CLIENT_PORT="2281", ZOO_CLIENT_PORT="2181", ZK_PEER_4LW_TIMEOUT="2")
    result = bash('ZK_TLS=1; zk_tls_word() { echo "tls $1 $2 $ZOO_SECURE_CLIENT_PORT"; }; zk_peer_word peer-1 srvr',
                  env=env)
    assert result.stdout.strip() == "tls peer-1 srvr 2281"
    result = bash('zk_4lw_at() { echo "plain $1 $2 $3"; }; zk_peer_word peer-1 srvr', env=clean_env(
        ZOO_CLIENT_PORT="2181", ZK_PEER_4LW_TIMEOUT="2"))
    assert result.stdout.strip() == "plain peer-1 2181 srvr"


@pytest.mark.parametrize(("setting", "value", "says"), [
    ("ZOO_TLS_CLIENT_AUTH", "required", "is not one of need want none"),
    ("ZOO_SECURE_CLIENT_PORT", "2181", "is also --client_port/ZOO_CLIENT_PORT"),
])
def test_bad_tls_settings_are_refused_with_one_line(pod, setting, value, says):
    start, _ = pod
    result = start(ZOO_HEAP="256m", **{setting: value})
    assert result.returncode == 2 and says in result.stderr
