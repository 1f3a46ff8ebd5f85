"""Reading members' answers, and the local target's reading of the rendered StatefulSet.

The srvr/mntr/zkCli texts below were captured from the image's ZooKeeper 3.9.5 during a smoke run.
"""

from __future__ import annotations

import pytest

from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.base.versions import image_version
from tools.cli import zookeeper
from tools.render import render
from tools.render.pod import pod_template

SRVR_LEADER = """Zookeeper version: 3.9.5-293c895a8d966a3ecb92872be4a1daf87d725da2, built on 2026-02-11 20:18 UTC
Latency min/avg/max: 0/0.0/0
Received: 1
Sent: 0
Connections: 1
Outstanding: 0
Zxid: 0x100000000
Mode: leader
Node count: 5
Proposal sizes last/min/max: -1/-1/-1
"""


def test_srvr_modes():
    assert zookeeper.parse_srvr(1, 0, SRVR_LEADER) == zookeeper.MemberState(1, "leader", "0x100000000")
    assert zookeeper.parse_srvr(1, 0, SRVR_LEADER).serving
    not_serving = zookeeper.parse_srvr(0, 0, "This ZooKeeper instance is not currently serving requests\n")
    assert (not_serving.mode, not_serving.serving) == ("not-serving", False)
    stopped = zookeeper.parse_srvr(
        2,
        125,
        "",
    )
    assert (stopped.mode, stopped.detail) == ("down", "exit 125")
    gone = zookeeper.parse_srvr(2, 125, 'Error: no container with name or ID "kz-smoke-1-zookeeper-2" found\n')
    assert gone.mode == "down" and "no container" in gone.detail


def test_mntr_gauges_of_3_9_are_doubles():
    mntr = zookeeper.parse_mntr("zk_version\t3.9.5-293c\nzk_server_state\tleader\nzk_synced_followers\t2.0\n")
    assert mntr["zk_server_state"] == "leader"
    assert zookeeper.as_number(mntr["zk_synced_followers"]) == 2
    assert zookeeper.as_number("") is None


def test_zkcli_value_is_the_data_line_not_the_connection_chatter():
    stdout = ("Connecting to 127.0.0.1:2181\n\nWATCHER::\n\n"
              "WatchedEvent state:SyncConnected type:None path:null zxid: -1\nworld\n")  # fmt: skip
    assert zookeeper.zkcli_value(stdout) == ["world"]


def test_zkcli_error_names_the_keeper_error():
    stderr = (
        "2026-11-25 22:03:56,173 WARN  Session 0x0 for server localhost/127.0.0.1:2181, Closing socket connection.\n"
        "org.apache.zookeeper.ClientCnxn$EndOfStreamException: Unable to read additional data from server\n"
        "\tat org.apache.zookeeper.ClientCnxnSocketNIO.doIO(ClientCnxnSocketNIO.java:77)\n"
        "KeeperErrorCode = ConnectionLoss for /hello\n"
        "2026-11-25 22:03:56,284 ERROR Exiting JVM with code 1\n"
    )
    assert zookeeper.client_error("Connecting to 127.0.0.1:2181\n", stderr) == (
        "KeeperErrorCode = ConnectionLoss for /hello"
    )
    assert zookeeper.client_error("", "Node does not exist: /hello\nERROR Exiting JVM with code 1\n") == (
        "Node does not exist: /hello"
    )


def test_zkcli_runs_one_command_in_a_fresh_bounded_process():
    argv = zookeeper.zkcli_argv("set", "/hello", "v", timeout_seconds=15)
    assert argv[:2] == ["timeout", "15"]
    assert argv[2] == "zkCli.sh"
    assert argv[-5:] == ["-server", "127.0.0.1:2181", "set", "/hello", "v"]


def test_local_members_are_set_up_as_the_kind_overlays_pods():
    template = pod_template(render(Profile("overlay", "kind")), "overlay-kind")
    assert template.hostname(2) == "zookeeper-2"
    assert template.fqdn(0) == "zookeeper-0.zookeeper-headless.default.svc.cluster.local"
    assert template.image == f"kube-zookeeper:{image_version()}"
    assert template.data_mount == "/var/lib/zookeeper"
    assert template.user == "1000:0"  # pinned-uid component; the image's group 0
    assert template.read_only
    assert sorted(template.scratch_mounts) == ["/opt/zookeeper/conf", "/tmp"]
    assert "ZOO_SERVERS" not in template.env  # the count is the ensemble ConfigMap, mounted as a file
    assert template.env["ZOO_HEAP"] == "256M"  # the laptop component's merge into the ConfigMap
    assert template.env["POD_NAMESPACE"] == "default"


def test_manifests_without_a_statefulset_are_refused_by_name():
    with pytest.raises(UserError, match="broken.yaml: expected one StatefulSet, found 0"):
        pod_template("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", "broken.yaml")
