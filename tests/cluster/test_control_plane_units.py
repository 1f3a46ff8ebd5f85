"""The control plane's pieces that need no binaries: pins, kwok stages, /proc parsing, error lines, the CLI."""

import re
import socket

import pytest

from tools.base import versions
from tools.base.errors import UserError
from tools.cluster import build, control_plane
from tools.cluster.__main__ import main


def test_wrapper_modules_pin_the_versions_in_tools_versions():
    assert build.gomod_requirement(build.GOMOD / "kube", "k8s.io/kubernetes") == versions.KUBERNETES_VERSION
    assert build.gomod_requirement(build.GOMOD / "etcd", "go.etcd.io/etcd/server/v3") == versions.ETCD_VERSION


def test_every_staging_module_is_replaced_by_the_matching_release():
    staging = versions.KUBERNETES_VERSION.replace("v1.", "v0.", 1)
    replaced = re.findall(r"^\s+(k8s\.io/\S+) => (\S+) (v\S+)$", (build.GOMOD / "kube" / "go.mod").read_text(), re.M)
    assert len(replaced) == 31  # the staging modules k8s.io/kubernetes v1.32.11 lists
    for module, target, version in replaced:
        assert target == module
        # the proxy refuses k8s.io/kms v0.32.11 (403); v0.32.12 is the same code
        assert version == (staging if module != "k8s.io/kms" else "v0.32.12"), module


def write_stages(root, volume_test=build.KWOK_STORAGE_CLASS_TEST):
    for relative in build.KWOK_STAGES:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        test = f"        expression: >-\n          {volume_test}\n" if relative.startswith("volume/") else ""
        path.write_text(f"kind: Stage\nmetadata:\n  name: {path.stem}\nspec:\n{test}")


def test_kwok_volume_stages_serve_every_storage_class_of_the_cluster(tmp_path):
    write_stages(tmp_path)
    joined = build.kwok_stages(tmp_path)
    assert joined.count("kind: Stage") == len(build.KWOK_STAGES)
    assert build.KWOK_STORAGE_CLASS_TEST not in joined
    assert joined.count("self.spec.storageClassName in ['kwok-volume', 'standard']") == 4


def test_a_kwok_stage_that_changed_is_a_located_error(tmp_path):
    write_stages(tmp_path, volume_test="self.spec.storageClassName == 'other'")
    with pytest.raises(UserError, match=r"volume/fast/pv-bind\.yaml: expected the test"):
        build.kwok_stages(tmp_path)


def test_a_missing_kwok_stage_is_named(tmp_path):
    write_stages(tmp_path)
    (tmp_path / "pod" / "fast" / "pod-delete.yaml").unlink()
    with pytest.raises(UserError, match="no stage pod/fast/pod-delete.yaml"):
        build.kwok_stages(tmp_path)


POD_DELETE = """# from kwok kustomize/stage/pod/fast/pod-delete.yaml
kind: Stage
metadata:
  name: pod-delete
spec:
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
  next:
    delete: true
"""


def test_kwok_deletes_each_pod_once_never_its_replacement_of_the_same_name():
    stages = "---\n".join(["kind: Stage\nmetadata:\n  name: pod-ready\n", POD_DELETE, "kind: Stage\n"])
    once = build.delete_pods_once(stages)
    pod_delete = once.split("\n---\n")[1]
    assert build.POD_DELETE_ONCE in pod_delete and once.count(build.POD_DELETE_ONCE) == 1
    assert pod_delete.index(build.POD_DELETE_TEST) < pod_delete.index(build.POD_DELETE_ONCE) < pod_delete.index("next:")
    assert build.delete_pods_once(once) == once  # the cached stages may already say so
    with pytest.raises(UserError, match="lack the pod-delete stage"):
        build.delete_pods_once(POD_DELETE.replace("'Exists'", "'In'"))


def test_proc_net_addresses_decode():
    assert control_plane._decode_address("0100007F") == "127.0.0.1"
    assert control_plane._decode_address("00000000") == "0.0.0.0"
    assert control_plane._decode_address("00000000000000000000000001000000") == "::1"


def test_listeners_finds_this_process_socket():
    import os

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert ("me", "127.0.0.1", port) in control_plane.listeners({"me": os.getpid()})


def test_the_most_telling_log_line_is_the_bind_failure(tmp_path):
    log = tmp_path / "etcd.log"
    log.write_text("starting\nlisten tcp 127.0.0.1:2379: bind: address already in use\nerror: shutting down\n")
    assert "address already in use" in control_plane.last_error(log)
    log.write_text("one\ntwo\n")
    assert control_plane.last_error(log) == "two"


def test_free_ports_are_distinct_and_free():
    ports = control_plane.free_ports(5)
    assert len(set(ports)) == 5
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_status_and_down_without_a_cluster_say_so(tmp_path, capsys):
    assert main(["status", "--dir", str(tmp_path / "none")]) == 3
    assert "not running" in capsys.readouterr().out
    assert main(["down", "--dir", str(tmp_path / "none")]) == 0
    assert "nothing to stop" in capsys.readouterr().out


def test_bad_node_count_is_one_line(tmp_path, capsys):
    assert main(["up", "--nodes", "0", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --nodes 0") and err.count("\n") == 1
