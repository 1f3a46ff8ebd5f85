"""tools.cli.engine and tools.image without building anything: engine detection, the jar pins, the base's mirror."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.base.errors import ToolMissing, UserError
from tools.cli import engine as engine_module
from tools.cli.engine import Engine
from tools.cli.kubectl import Kubectl
from tools.image import build as image_build
from tools.image.ensemble import configmap_env

REPO = Path(__file__).resolve().parents[2]


def test_no_engine_is_a_clear_tool_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # neither podman nor docker
    monkeypatch.delenv("KUBE_ZOOKEEPER_ENGINE", raising=False)
    with pytest.raises(ToolMissing, match="no container engine: install podman"):
        Engine.detect()


def test_python_m_tools_image_without_an_engine_says_so_and_exits_127(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    env.pop("KUBE_ZOOKEEPER_ENGINE", None)
    result = subprocess.run(
        [sys.executable, "-m", "tools.image"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 127
    assert result.stderr.startswith("error: no container engine")
    assert "Traceback" not in result.stderr


def test_an_unknown_forced_engine_is_refused(monkeypatch):
    monkeypatch.setenv("KUBE_ZOOKEEPER_ENGINE", "lxc")
    with pytest.raises(UserError, match="KUBE_ZOOKEEPER_ENGINE='lxc'"):
        Engine.detect()


def test_podman_uses_one_private_store_and_this_machines_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBE_ZOOKEEPER_PODMAN_DIR", str(tmp_path / "store"))
    podman = Engine("podman", "/usr/bin/podman")
    store = tmp_path / "store"
    expected = ["/usr/bin/podman", "--root", str(store / "root"), "--runroot", str(store / "run"), "ps"]
    assert podman.argv("ps") == expected
    conf = Path(podman.env["CONTAINERS_CONF"]).read_text()
    for setting in ('runtime = "runc"', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', "nofile=1024:1024"):
        assert setting in conf
    assert Engine("docker", "/usr/bin/docker").argv("ps") == ["/usr/bin/docker", "ps"]


def test_apt_mirror_is_read_from_deb822_and_one_line_sources(monkeypatch, tmp_path):
    sources = tmp_path / "sources.list.d"
    sources.mkdir()
    (sources / "a-other.sources").write_text("Types: deb\nURIs: https://example.invalid/node\nSuites: nodistro\n")
    (sources / "debian.sources").write_text("URIs: http://mirror.example.invalid/debian\nSuites: bookworm\n")
    monkeypatch.setattr(engine_module, "APT_SOURCES", sources)
    assert engine_module.apt_mirror() == "http://mirror.example.invalid/debian"
    (sources / "debian.sources").unlink()
    (sources / "old.list").write_text("deb http://mirror2.example.invalid/debian/ bookworm main\n")
    assert engine_module.apt_mirror() == "http://mirror2.example.invalid/debian/"


def test_every_pinned_jar_is_a_sha256_and_zookeeper_3_9_5_is_pinned():
    pins = image_build.read_lock()
    assert "zookeeper-3.9.5.jar" in pins
    assert any(name.startswith("zookeeper-prometheus-metrics-") for name in pins)
    assert any(name.startswith("logback-classic-") for name in pins)


@pytest.fixture
def jars(tmp_path):
    paths = []
    for name, content in [("a-1.0.jar", b"first"), ("b-2.0.jar", b"second")]:
        (tmp_path / name).write_bytes(content)
        paths.append(tmp_path / name)
    lock = tmp_path / "jars.sha256"
    image_build.write_lock(paths, lock)
    return paths, lock


def test_jars_matching_their_pins_pass(jars):
    paths, lock = jars
    image_build.verify_jars(paths, image_build.read_lock(lock), lock)


def test_a_changed_jar_is_named(jars):
    paths, lock = jars
    paths[1].write_bytes(b"tampered")
    with pytest.raises(UserError, match=r"b-2\.0\.jar: sha256 \w+ differs from the pinned"):
        image_build.verify_jars(paths, image_build.read_lock(lock), lock)


def test_an_unpinned_or_missing_jar_is_named(jars, tmp_path):
    paths, lock = jars
    extra = tmp_path / "c-3.0.jar"
    extra.write_bytes(b"new")
    with pytest.raises(UserError, match=r"c-3\.0\.jar: fetched but not pinned"):
        image_build.verify_jars([*paths, extra], image_build.read_lock(lock), lock)
    with pytest.raises(UserError, match=r"a-1\.0\.jar: pinned in jars\.sha256 but not fetched"):
        image_build.verify_jars(paths[1:], image_build.read_lock(lock), lock)


def test_a_malformed_lock_line_is_located(tmp_path):
    lock = tmp_path / "jars.sha256"
    lock.write_text("# header\n" + "0" * 64 + "  ok.jar\nnot-a-hash  bad.jar\n")
    with pytest.raises(UserError, match=rf"{lock}:3: expected"):
        image_build.read_lock(lock)


def test_configmap_env_is_the_base_configmap():
    """The local ensemble gets exactly what the base's generated ConfigMap gives pods: every key, every value."""
    (configmap,) = [d for d in yaml.safe_load_all(Kubectl().kustomize(REPO / "base"))
                    if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("zookeeper-config-")]
    assert configmap_env() == configmap["data"]


class RecordingEngine:
    """What ensure_image asks of an engine: whether the tag exists and its sources label."""

    name = "podman"

    def __init__(self, exists: bool, label: str = ""):
        self.exists, self.label = exists, label

    def image_exists(self, tag: str) -> bool:
        return self.exists

    def image_label(self, tag: str, label: str) -> str:
        assert label == image_build.SOURCES_LABEL
        return self.label


@pytest.mark.parametrize(("exists", "label", "builds", "says"), [
    (False, "", True, "not found in podman"),
    (True, "0" * 64, True, "was built from other sources than image/ holds now"),  # image/ changed, same tag
    (True, None, False, None),  # built from what image/ holds: kept
])  # fmt: skip
def test_the_image_is_built_again_when_image_changed_under_the_same_tag(monkeypatch, exists, label, builds, says):
    built, said = [], []
    monkeypatch.setattr(image_build, "build", lambda engine, tag: built.append(tag))
    engine = RecordingEngine(exists, image_build.sources_digest() if label is None else label)
    image_build.ensure_image(engine, image_build.TAG, said.append)
    assert built == ([image_build.TAG] if builds else [])
    assert (says in said[0]) if says else said == []


def test_the_sources_digest_follows_every_file_the_build_reads(monkeypatch, tmp_path):
    for name in {*image_build.CONTEXT_FILES, "pom.xml", "jars.sha256", "VERSION"}:
        (tmp_path / name).write_text(name)
    monkeypatch.setattr(image_build, "IMAGE_DIR", tmp_path)
    before = image_build.sources_digest()
    (tmp_path / "ensemble.sh").write_text("changed")
    assert image_build.sources_digest() != before


def test_a_built_image_carries_its_sources_digest_as_a_label(monkeypatch):
    calls = {}

    class Builder:
        name = "podman"

        def ensure_base_image(self):
            return False

        def build(self, context, tag, **kwargs):
            calls.update(kwargs)

    monkeypatch.setattr(image_build, "stage_context", lambda update_lock=False: Path("/nonexistent"))
    image_build.build(Builder(), image_build.TAG)
    assert calls["labels"] == {image_build.SOURCES_LABEL: image_build.sources_digest()}
