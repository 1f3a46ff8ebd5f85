"""The image tag and ZooKeeper version are written in several files that must move together on an upgrade."""

import re
import xml.etree.ElementTree as ET

import yaml

from tools import REPO_ROOT
from tools.base.profiles import Profile
from tools.image import build as image_build
from tools.render import render

POM = "{http://maven.apache.org/POM/4.0.0}"


def statefulset_image(profile: Profile) -> str:
    docs = [d for d in yaml.safe_load_all(render(profile)) if d]
    (statefulset,) = [d for d in docs if d["kind"] == "StatefulSet"]
    return statefulset["spec"]["template"]["spec"]["containers"][0]["image"]


def test_every_file_names_the_image_that_tools_image_builds():
    pom = ET.parse(REPO_ROOT / "image" / "pom.xml").getroot()
    zookeeper_version = pom.find(f"{POM}properties/{POM}zookeeper.version").text
    name, tag = image_build.TAG.split(":")
    assert pom.find(f"{POM}version").text == tag
    assert tag.startswith(zookeeper_version + "-")
    dockerfile = (REPO_ROOT / "image" / "Dockerfile").read_text()
    assert re.search(r'org\.opencontainers\.image\.version="([^"]+)"', dockerfile).group(1) == tag
    for env in ("kind", "minikube"):
        assert statefulset_image(Profile("overlay", env)) == image_build.TAG
        assert statefulset_image(Profile("chart", env)) == image_build.TAG
    chart = yaml.safe_load((REPO_ROOT / "chart" / "Chart.yaml").read_text())
    assert chart["appVersion"] == zookeeper_version
    base = yaml.safe_load((REPO_ROOT / "base" / "kustomization.yaml").read_text())
    assert base["labels"][0]["pairs"]["app.kubernetes.io/version"] == zookeeper_version


def test_every_production_object_carries_the_zookeeper_version_label():
    """Components add their own labels (a Component's objects skip the base's label transformer)."""
    pom = ET.parse(REPO_ROOT / "image" / "pom.xml").getroot()
    zookeeper_version = pom.find(f"{POM}properties/{POM}zookeeper.version").text
    for source in ("overlay", "chart"):
        docs = [d for d in yaml.safe_load_all(render(Profile(source, "production"))) if d]
        assert {d["metadata"]["labels"].get("app.kubernetes.io/version") for d in docs} == {zookeeper_version}
