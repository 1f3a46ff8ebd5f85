"""`nox -s image` ends with the commands that put the image where kind, minikube, docker and a registry can use it;
--save writes an archive those load under the name the manifests use; --push goes through the engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from tools.base.run import CommandError
from tools.cli.engine import Engine, docker_reference
from tools.image import build as image_build

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def podman(monkeypatch, tmp_path) -> Engine:
    monkeypatch.setenv("KUBE_ZOOKEEPER_PODMAN_DIR", str(tmp_path / "store"))
    return Engine("podman", "/usr/bin/podman")


def test_after_a_podman_build_it_says_where_the_image_is_and_how_each_target_gets_it(podman, tmp_path):
    lines = image_build.next_steps(podman, image_build.TAG)
    text = "\n".join(lines)
    assert f"podman's private store ({tmp_path / 'store'})" in lines[0]
    save = "nox -s image -- --save build/kube-zookeeper.tar"
    for command in (f"{save} && kind load image-archive build/kube-zookeeper.tar",
                    "minikube image load build/kube-zookeeper.tar", "docker load -i build/kube-zookeeper.tar",
                    "nox -s image -- --push REGISTRY"):
        assert command in text


def test_after_a_docker_build_kind_and_minikube_load_it_by_name():
    text = "\n".join(image_build.next_steps(Engine("docker", "/usr/bin/docker"), image_build.TAG))
    assert f"kind load docker-image {image_build.TAG}" in text and f"minikube image load {image_build.TAG}" in text


def test_after_save_the_commands_name_the_archive(podman, tmp_path):
    archive = tmp_path / "out" / "zk.tar"
    text = "\n".join(image_build.next_steps(podman, image_build.TAG, archive=archive))
    assert f"kind load image-archive {archive}" in text and f"docker load -i {archive}" in text


def test_after_push_it_says_where_to_point_the_manifests(podman):
    pushed = f"registry.corp.internal/zk/{image_build.TAG}"
    text = "\n".join(image_build.next_steps(podman, image_build.TAG, pushed=pushed))
    assert "newName: registry.corp.internal/zk/kube-zookeeper in components/registry-image/kustomization.yaml" in text
    assert "--set image.repository=registry.corp.internal/zk/kube-zookeeper" in text


@pytest.mark.parametrize(("reference", "full"), [
    (image_build.TAG, f"docker.io/library/{image_build.TAG}"),
    ("platform/kube-zookeeper:1", "docker.io/platform/kube-zookeeper:1"),
    ("registry.corp.internal/kube-zookeeper:1", "registry.corp.internal/kube-zookeeper:1"),
    ("localhost:5000/kube-zookeeper:1", "localhost:5000/kube-zookeeper:1"),
    ("localhost/kube-zookeeper:1", "localhost/kube-zookeeper:1"),
])
def test_docker_reference(reference, full):
    assert docker_reference(reference) == full


def test_save_to_a_directory_is_refused_before_building(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tools.image", "--save", str(tmp_path)], cwd=REPO,
                            capture_output=True, text=True, timeout=60, env={**os.environ, "PATH": str(tmp_path)})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"--save {tmp_path}: expected a file path ending in .tar" in result.stderr


@pytest.mark.slow
def test_save_writes_an_archive_that_loads_under_the_manifests_name(engine, zk_image, tmp_path, monkeypatch):
    archive = tmp_path / "kube-zookeeper.tar"
    engine.save(zk_image, archive)
    assert [p.name for p in tmp_path.iterdir()] == ["kube-zookeeper.tar"]  # no partial file left
    with tarfile.open(archive) as tar:
        (entry,) = json.load(tar.extractfile("manifest.json"))
    expected = docker_reference(zk_image) if engine.name == "podman" else zk_image
    assert entry["RepoTags"] == [expected]
    if engine.name != "podman":
        return
    store = Path(tempfile.mkdtemp(prefix="kzs-", dir="/tmp"))  # podman wants a runroot under 50 characters
    try:
        monkeypatch.setenv("KUBE_ZOOKEEPER_PODMAN_DIR", str(store))  # an empty store, as on a fresh node
        fresh = Engine("podman", engine.program)
        fresh.cli("load", "--input", str(archive), timeout=600)
        assert fresh.image_exists(docker_reference(zk_image))
    finally:
        shutil.rmtree(store, ignore_errors=True)


@pytest.mark.slow
def test_push_to_an_unreachable_registry_is_an_error_naming_it(engine, zk_image):
    with pytest.raises(CommandError) as failure:
        engine.push(zk_image, "127.0.0.1:9/kz-test")
    assert "127.0.0.1:9" in str(failure.value)
    engine.image_rm(f"127.0.0.1:9/kz-test/{zk_image}")


@pytest.mark.slow
def test_the_built_image_is_labelled_with_image_version(engine, zk_image):
    assert engine.image_label(zk_image, "org.opencontainers.image.version") == image_build.VERSION
