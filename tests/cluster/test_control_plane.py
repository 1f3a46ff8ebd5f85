"""A real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) started, used and stopped."""

import json
import socket

import pytest

from tools.base.errors import UserError
from tools.cluster import control_plane
from tools.cluster.__main__ import main
from tools.cluster.control_plane import PROCESSES, LocalCluster, listeners

pytestmark = pytest.mark.slow  # the `cluster` fixture (conftest.py) skips without the binaries


def kubectl(cluster, *args, input=None):
    return cluster.kubectl.cli(*args, input=input, check=False, timeout=60)


def test_nodes_are_ready_in_three_zones_with_the_pinned_version(cluster):
    nodes = json.loads(kubectl(cluster, "get", "nodes", "-o", "json").stdout)["items"]
    assert len(nodes) == 3
    zones = {n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes}
    assert len(zones) == 3
    for node in nodes:
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", node["metadata"]["name"]
    version = json.loads(kubectl(cluster, "get", "--raw", "/version").stdout)
    assert version["gitVersion"] == "v1.32.11"


def test_storage_classes_standard_and_a_default(cluster):
    classes = json.loads(kubectl(cluster, "get", "storageclass", "-o", "json").stdout)["items"]
    names = {c["metadata"]["name"] for c in classes}
    defaults = [
        c
        for c in classes
        if c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    ]
    assert "standard" in names and len(defaults) == 1


def test_nothing_listens_beyond_loopback(cluster):
    running = cluster.running()
    assert set(running) == set(PROCESSES) and all(running.values())
    sockets = listeners(running)
    assert {process for process, _, _ in sockets} >= {"etcd", "kube-apiserver"}
    assert all(address == "127.0.0.1" for _, address, _ in sockets), sockets


def test_a_restricted_namespace_refuses_a_root_pod_and_admits_a_hardened_one(cluster):
    namespace = "psa-check"
    assert kubectl(cluster, "create", "namespace", namespace).code == 0
    kubectl(cluster, "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": {"containers": [{"name": "c", "image": "busybox", "securityContext": {"runAsUser": 0}}]},
    }
    refused = kubectl(cluster, "apply", "--dry-run=server", "-f", "-", input=json.dumps(pod))
    assert refused.code != 0 and "violates PodSecurity" in refused.stderr
    pod["spec"] = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "c",
                "image": "busybox",
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
    }
    admitted = kubectl(cluster, "apply", "--dry-run=server", "-f", "-", input=json.dumps(pod))
    assert admitted.code == 0, admitted.stderr


def test_strict_server_validation_refuses_an_unknown_field(cluster):
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "namespace": "default"},
        "data": {},
        "dta": {},
    }
    result = kubectl(cluster, "apply", "--dry-run=server", "--validate=strict", "-f", "-", input=json.dumps(config))
    assert result.code != 0 and 'unknown field "dta"' in result.stderr


def test_up_again_reuses_the_running_cluster(cluster, capsys):
    pids = cluster.running()
    assert main(["up", "--dir", str(cluster.root)]) == 0
    out = capsys.readouterr().out
    assert "already running" in out and f"export KUBECONFIG={cluster.kubeconfig}" in out
    assert cluster.running() == pids


def test_status_reports_healthy_with_the_export_line(cluster, capsys):
    assert main(["status", "--dir", str(cluster.root)]) == 0
    out = capsys.readouterr().out
    assert "cluster: healthy" in out and "export KUBECONFIG=" in out


def test_a_port_in_use_is_one_clear_line_and_nothing_keeps_running(cluster_binaries, tmp_path, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        real = control_plane.free_ports
        monkeypatch.setattr(control_plane, "free_ports", lambda count: [port, *real(count - 1)])
        local = LocalCluster(tmp_path / "state", progress=lambda line: None)
        with pytest.raises(UserError, match=r"etcd exited during start: .*address already in use"):
            local.up(nodes=1, zones=1)
    assert not any(local.running().values())
    local.down(quiet=True)
    assert not (tmp_path / "state").exists()


def test_down_stops_every_process_and_removes_its_data(cluster_binaries, tmp_path):
    local = LocalCluster(tmp_path / "state", progress=lambda line: None)
    local.up(nodes=1, zones=1)
    pids = [pid for pid in local.running().values() if pid]
    assert len(pids) == len(PROCESSES)
    stopped = local.down()
    assert sorted(stopped) == sorted(PROCESSES)
    assert all(control_plane._state(pid) in (None, "Z") for pid in pids)
    assert not (tmp_path / "state").exists()
