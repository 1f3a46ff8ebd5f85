"""A real node (`up --node real`) started, used and stopped: the project's image runs under a real kubelet, names
resolve through CoreDNS, a ClusterIP Service answers through kube-proxy, `standard` PVCs get real local volumes, and
`down` leaves nothing on the machine.

Skipped, with the reason, where a real node cannot run (not root, no containerd or CNI plugins, no cgroup access), or
while another real node runs on the host (one bridge, one set of kubelet cgroups)."""

import json
import socket
import subprocess
import time

import pytest

from tools import REPO_ROOT
from tools.cluster import build, control_plane
from tools.cluster.control_plane import LocalCluster
from tools.cluster.node import config, host, real

pytestmark = pytest.mark.slow

NAMESPACE = "real-node-check"


@pytest.fixture(scope="module")
def real_cluster(cluster_binaries, tmp_path_factory):
    root = tmp_path_factory.mktemp("real") / "state"
    missing = real.missing_prerequisites(config.Layout(root / "node"))
    if missing:
        pytest.skip("no real node: " + "; ".join(missing))
    if config.BRIDGE in host.links():
        pytest.skip(f"another real node runs on the host (bridge {config.BRIDGE} exists)")
    before = host.take()
    local = LocalCluster(root, progress=lambda line: None)
    info = local.up(nodes=1, zones=1, real_node=True)
    assert info.real_node == config.NODE_NAME, info.real_node_skipped
    yield local, before
    if local.root.exists():
        local.down(quiet=True)


def kubectl(cluster, *args, input=None, check=True, timeout=120):
    """Anything the checks ask the API; cluster.kubectl's own methods where one fits."""
    result = cluster.kubectl.cli(*args, input=input, check=False, timeout=timeout)
    if check:
        assert result.code == 0, result.stderr
    return result


def test_the_real_node_is_ready_with_the_pinned_kubelet_and_containerd(real_cluster):
    cluster, _ = real_cluster
    node = json.loads(kubectl(cluster, "get", "node", config.NODE_NAME, "-o", "json").stdout)
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == "v1.32.11"
    assert info["containerRuntimeVersion"].startswith("containerd://1.")
    assert "kwok.x-k8s.io/node" not in node["metadata"].get("annotations", {})
    assert {a["type"]: a["address"] for a in node["status"]["addresses"]}["InternalIP"] == config.NODE_IP
    images = subprocess.run(
        [str(build.node_binaries().crictl), "--runtime-endpoint", f"unix://{cluster.root}/node/containerd.sock",
         "images", "-o", "json"], capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    tags = {tag for image in json.loads(images)["images"] for tag in image["repoTags"]}
    assert {config.PAUSE_IMAGE, config.HELPER_IMAGE} <= tags
    assert any(tag.startswith("docker.io/library/kube-zookeeper:") for tag in tags), tags


@pytest.fixture(scope="module")
def ensemble(real_cluster):
    """overlays/kind applied in a namespace, on the real node (the kwok node cordoned), all Ready."""
    cluster, _ = real_cluster
    kubectl(cluster, "cordon", "kz-node-1")
    kubectl(cluster, "create", "namespace", NAMESPACE)
    kubectl(cluster, "--namespace", NAMESPACE, "apply", "-k", str(REPO_ROOT / "overlays" / "kind"))
    kubectl(cluster, "--namespace", NAMESPACE, "rollout", "status", "statefulset/zookeeper", "--timeout=300s",
            timeout=330)
    yield cluster
    kubectl(cluster, "delete", "namespace", NAMESPACE, "--wait=true", "--timeout=120s", check=False, timeout=150)


def test_members_run_on_the_real_node_with_local_volumes_of_the_standard_class(ensemble):
    pods = json.loads(kubectl(ensemble, "-n", NAMESPACE, "get", "pods", "-o", "json").stdout)["items"]
    assert {p["spec"]["nodeName"] for p in pods} == {config.NODE_NAME}
    volumes = json.loads(kubectl(ensemble, "get", "pv", "-o", "json").stdout)["items"]
    mine = [v for v in volumes if v["spec"]["claimRef"]["namespace"] == NAMESPACE]
    assert len(mine) == 3 and {v["spec"]["storageClassName"] for v in mine} == {"standard"}
    for volume in mine:
        assert volume["spec"]["local"]["path"].startswith(str(ensemble.root / "node" / "volumes"))
        terms = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        assert terms[0]["matchExpressions"][0]["values"] == [config.NODE_NAME]


def test_a_member_resolves_the_headless_names_through_coredns(ensemble):
    pods = json.loads(kubectl(ensemble, "-n", NAMESPACE, "get", "pods", "-o", "json").stdout)["items"]
    ips = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods}
    for member in ("zookeeper-0", "zookeeper-2"):
        name = f"{member}.zookeeper-headless.{NAMESPACE}.svc.cluster.local"
        answer = kubectl(ensemble, "-n", NAMESPACE, "exec", "zookeeper-1", "--", "getent", "hosts", name).stdout
        assert answer.split()[0] == ips[member], answer
    missing = kubectl(ensemble, "-n", NAMESPACE, "exec", "zookeeper-1", "--", "getent", "hosts",
                      f"zookeeper-9.zookeeper-headless.{NAMESPACE}.svc.cluster.local", check=False)
    assert missing.code != 0  # an unknown name is not answered


def test_the_client_service_cluster_ip_answers_through_kube_proxy(ensemble):
    ip = kubectl(ensemble, "-n", NAMESPACE, "get", "service", "zookeeper", "-o", "jsonpath={.spec.clusterIP}").stdout
    deadline = time.monotonic() + 30
    while True:  # kube-proxy syncs its rules within a few seconds of the endpoints
        try:
            with socket.create_connection((ip, 2181), timeout=3):
                break
        except OSError as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"{ip}:2181 (ClusterIP of the client Service): {exc}") from None
            time.sleep(1)
    unused = kubectl(ensemble, "-n", NAMESPACE, "create", "service", "clusterip", "nobody", "--tcp=2181:2181")
    assert unused.code == 0
    nobody = kubectl(ensemble, "-n", NAMESPACE, "get", "service", "nobody", "-o", "jsonpath={.spec.clusterIP}").stdout
    time.sleep(3)
    with pytest.raises(OSError):  # no endpoints: kube-proxy rejects, nothing else listens there
        socket.create_connection((nobody, 2181), timeout=3).close()


def test_down_stops_the_node_and_leaves_nothing_on_the_machine(real_cluster):
    cluster, before = real_cluster
    pids = {name: pid for name, pid in cluster.running().items() if pid and name in real.PROCESSES}
    assert set(pids) == set(real.PROCESSES)
    stopped = cluster.down(quiet=True)
    assert set(real.PROCESSES) <= set(stopped)
    assert all(control_plane._state(pid) in (None, "Z") for pid in pids.values())
    assert host.leftovers(before, config.BRIDGE, cluster.root) == []
    assert config.BRIDGE not in host.links()
    assert not cluster.root.exists()
