"""The real node's pieces that need no running node: prerequisites, configuration files, host bookkeeping."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

from tools.cluster import build
from tools.cluster.control_plane import free_ports
from tools.cluster.node import config, host, real

LAYOUT = config.Layout(config.Path("/tmp/kz-unit/node"))


def test_every_missing_prerequisite_is_one_line_naming_its_package(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    present = shutil.which
    monkeypatch.setattr(real.shutil, "which", lambda name: None if name in ("containerd", "runc") else present(name))
    monkeypatch.setattr(config, "CNI_BIN_DIR", tmp_path)  # no plugin there
    (tmp_path / "loopback").touch()
    monkeypatch.setattr(host, "cgroup_access", lambda: "cannot create a cgroup in /sys/fs/cgroup/memory (denied)")
    missing = real.missing_prerequisites(LAYOUT)
    assert "containerd not found: apt-get install containerd (its service is not used: `up` runs its own containerd)" \
        in missing
    assert "runc not found: apt-get install runc" in missing
    cni = [line for line in missing if line.startswith("CNI plugins")]
    assert cni == [f"CNI plugins bridge, host-local not in {tmp_path}: apt-get install containernetworking-plugins"]
    assert "no cgroup access: cannot create a cgroup in /sys/fs/cgroup/memory (denied)" in missing
    assert all("\n" not in line for line in missing)


def test_not_root_is_the_one_reason_given(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    missing = real.missing_prerequisites(LAYOUT)
    assert len(missing) == 1 and missing[0].startswith("not root:")


def test_a_socket_path_too_long_for_unix_sockets_is_refused(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    long = config.Layout(config.Path("/tmp/" + "x" * 100))
    assert any("too long" in line for line in real.missing_prerequisites(long))


def test_containerd_config_restricts_oom_score_adj_and_keeps_everything_under_the_node_dir():
    parsed = tomllib.loads(config.containerd_toml(LAYOUT))
    cri = parsed["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["restrict_oom_score_adj"] is True  # for a root without CAP_SYS_RESOURCE
    assert cri["sandbox_image"] == config.PAUSE_IMAGE
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False
    assert cri["cni"]["bin_dir"] == "/usr/lib/cni"
    paths = [parsed["root"], parsed["state"], parsed["grpc"]["address"], cri["cni"]["conf_dir"],
             cri["containerd"]["runtimes"]["runc"]["options"]["Root"]]
    assert all(p.startswith(str(LAYOUT.root) + "/") for p in paths), paths
    assert "io.containerd.internal.v1.opt" in parsed["disabled_plugins"]  # it would write /opt/containerd


def test_kubelet_config_uses_cgroupfs_our_socket_and_dns_on_the_bridge():
    ports = dict.fromkeys(real.PORTS, 1)
    kubelet = yaml.safe_load(config.kubelet_yaml(LAYOUT, ports, config.Path("/ca.crt")))
    assert kubelet["cgroupDriver"] == "cgroupfs" and kubelet["oomScoreAdj"] == 0
    assert kubelet["containerRuntimeEndpoint"] == f"unix://{LAYOUT.socket}"
    assert kubelet["clusterDNS"] == [config.NODE_IP] and kubelet["address"] == config.NODE_IP
    assert kubelet["authentication"]["anonymous"]["enabled"] is False
    assert kubelet["authorization"]["mode"] == "Webhook"
    for key in ("volumePluginDir", "podLogsDir", "resolvConf"):
        assert kubelet[key].startswith(str(LAYOUT.root)), key
    proxy = yaml.safe_load(config.kube_proxy_yaml(config.Path("/kp.kubeconfig"), ports))
    assert proxy["mode"] == "iptables" and proxy["oomScoreAdj"] == 0
    assert proxy["conntrack"]["maxPerCore"] == 0  # leaves the host's conntrack table size alone


def test_cni_config_puts_ipam_state_under_the_node_dir():
    conflist = json.loads(config.cni_conflist(LAYOUT))
    bridge = conflist["plugins"][0]
    assert bridge["bridge"] == config.BRIDGE and bridge["ipam"]["dataDir"].startswith(str(LAYOUT.root))
    assert bridge["ipam"]["ranges"][0][0] == {"subnet": config.POD_SUBNET, "gateway": config.NODE_IP}
    assert bridge["ipam"]["routes"] == [{"dst": "10.96.0.0/16"}]  # ClusterIPs (the kubernetes Service) via the bridge


def test_corefile_serves_the_cluster_domain_on_the_bridge_only():
    corefile = config.corefile(config.Path("/coredns.kubeconfig"), 1234)
    assert corefile.count(f"bind {config.NODE_IP}") == 2
    assert "kubernetes cluster.local" in corefile and "forward" not in corefile
    assert "ready 127.0.0.1:1234" in corefile


def test_with_a_real_node_kwok_leaves_the_standard_class_alone():
    text = "expression: >-\n  self.spec.storageClassName in ['kwok-volume', 'standard']\n"
    narrowed = build.restrict_volume_stages(text, ["kwok-volume"])
    assert "self.spec.storageClassName in ['kwok-volume']" in narrowed and "'standard'" not in narrowed
    with pytest.raises(build.UserError, match="lack the storage class test"):
        build.restrict_volume_stages("expression: true\n", ["kwok-volume"])


def test_the_standard_class_of_a_real_node_waits_for_the_pod_and_makes_local_volumes():
    objects = {(o["kind"], o["metadata"]["name"]) for o in config.node_objects(LAYOUT, 6443)}
    assert ("ServiceAccount", config.PROVISIONER_SERVICE_ACCOUNT) in objects
    assert ("ClusterRoleBinding", "kube-zookeeper:kube-apiserver-kubelet-client") in objects
    standard = config.storage_class(config.REAL_STORAGE_CLASS)
    assert standard["volumeBindingMode"] == "WaitForFirstConsumer"
    assert standard["provisioner"] == config.PROVISIONER
    assert standard["metadata"]["annotations"]["defaultVolumeType"] == "local"  # the kubelet applies fsGroup


needs_iptables_root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("iptables-save"), reason="needs root and iptables to change a chain"
)


@needs_iptables_root
def test_a_new_kube_chain_is_a_leftover_until_restore_removes_it(tmp_path):
    before = host.take()
    chain = f"KUBE-KZ-TEST-{os.getpid()}"
    subprocess.run(["iptables", "-w", "-t", "filter", "-N", chain], check=True)
    subprocess.run(["iptables", "-w", "-t", "filter", "-A", "FORWARD", "-j", chain, "-m", "comment", "--comment",
                    "kz test"], check=True)
    try:
        left = host.leftovers(before, config.BRIDGE, tmp_path)
        assert any(chain in line for line in left), left
        done = host.restore(before, config.BRIDGE)
        assert "removed 1 iptables filter chain(s)" in done
        assert not any(chain in line for line in host.leftovers(before, config.BRIDGE, tmp_path))
    finally:
        subprocess.run(["iptables", "-w", "-D", "FORWARD", "-j", chain, "-m", "comment", "--comment", "kz test"],
                       capture_output=True)
        subprocess.run(["iptables", "-w", "-X", chain], capture_output=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to write a sysctl")
def test_a_changed_sysctl_is_a_leftover_until_restore_puts_it_back(tmp_path):
    before = host.take()
    path = config.Path("/proc/sys/kernel/panic_on_oops")
    original = path.read_text().strip()
    path.write_text("0" if original != "0" else "1")
    try:
        assert any(line.startswith("sysctl kernel.panic_on_oops") for line in host.leftovers(before, "none", tmp_path))
        assert f"restored kernel.panic_on_oops = {original}" in host.restore(before, "none")
        assert path.read_text().strip() == original
    finally:
        path.write_text(original)


def skipped_cluster(monkeypatch, skipped: str):
    from tools.cluster import control_plane

    info = control_plane.ClusterInfo("v1.32.11", ["kz-node-1"], {"kz-node-1": "zone-a"}, {}, 0.0, {"up": 1.0},
                                     real_node="", real_node_skipped=skipped)
    monkeypatch.setattr(control_plane.LocalCluster, "healthy", lambda self: True)
    monkeypatch.setattr(control_plane.LocalCluster, "info", lambda self: info)


def test_smoke_asking_for_a_skipped_real_node_runs_on_kwok_and_says_why_its_zookeeper_steps_cannot(monkeypatch):
    from tools.smoke.scenario import NotRun
    from tools.smoke.scenarios.kube import KubeScenario
    from tools.smoke.targets import connect
    from tools.smoke.targets.kube import KubeTarget

    skipped_cluster(monkeypatch, "containerd not found: apt-get install containerd")
    said = []
    cluster = connect.prepare("cluster", "kind", None, False, said.append, node="real")
    assert cluster.nodes == "kwok"
    assert cluster.not_run == "no real node: containerd not found: apt-get install containerd"
    assert said and "real node SKIPPED" in said[0]
    assert cluster.kubectl.kubeconfig.endswith("kubeconfig") and cluster.kubectl.namespace is None
    target = KubeTarget("kind", "kustomize", cluster.kubectl.with_namespace("ns"), progress=lambda line: None)
    scenario = KubeScenario(target, progress=lambda line: None, nodes=cluster.nodes, not_run=cluster.not_run)
    with pytest.raises(NotRun, match="no real node: containerd not found"):
        scenario.step("ruok")


def test_smoke_asking_for_a_real_node_the_cluster_never_had_is_one_line_with_the_command(monkeypatch):
    from tools.base.errors import UserError
    from tools.smoke.targets import connect

    skipped_cluster(monkeypatch, "")
    with pytest.raises(UserError, match=r"no real node; start one with `nox -s cluster -- up --node real`"):
        connect.prepare("cluster", "kind", None, False, lambda line: None, node="real")


def test_the_kind_profile_on_kwok_nodes_beside_a_real_node_is_refused_with_the_way_out(monkeypatch):
    from tools.base.errors import UserError
    from tools.cluster import control_plane
    from tools.smoke.targets import connect

    skipped_cluster(monkeypatch, "")
    control_plane.LocalCluster.info(None).real_node = config.NODE_NAME
    with pytest.raises(UserError, match="run it with --node real"):
        connect.prepare("cluster", "kind", None, False, lambda line: None, node="kwok")
    kwok = connect.prepare("cluster", "production", None, False, lambda line: None, node="kwok")
    assert kwok.nodes == "kwok" and kwok.not_run == ""


def test_the_kubernetes_service_leads_to_the_forwarder_on_the_bridge_address():
    (slice_,) = [o for o in config.node_objects(LAYOUT, 6443) if o["kind"] == "EndpointSlice"]
    assert slice_["metadata"]["namespace"] == "default"
    assert slice_["metadata"]["labels"]["kubernetes.io/service-name"] == "kubernetes"
    assert slice_["endpoints"] == [{"addresses": [config.NODE_IP], "conditions": {"ready": True}}]
    assert slice_["ports"] == [{"name": "https", "port": 6443, "protocol": "TCP"}]


def test_the_forwarder_passes_bytes_both_ways_and_stops_on_sigterm(tmp_path):
    echo = socket.create_server(("127.0.0.1", 0))
    target = echo.getsockname()[1]
    (listen,) = free_ports(1)
    forward = Path(config.__file__).with_name("forward.py")
    process = subprocess.Popen([sys.executable, str(forward), f"127.0.0.1:{listen}", f"127.0.0.1:{target}"],
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client = socket.create_connection(("127.0.0.1", listen), timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "the forwarder never listened"
                time.sleep(0.05)
        server, _ = echo.accept()
        client.sendall(b"ping")
        assert server.recv(4) == b"ping"
        server.sendall(b"pong")
        assert client.recv(4) == b"pong"
        client.close()
        server.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        echo.close()
    assert f"127.0.0.1:{listen} -> 127.0.0.1:{target}" in process.stderr.read()
