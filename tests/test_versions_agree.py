"""The image version is image/VERSION; the files that must name it (or its ZooKeeper version) literally agree with
it (tools/checks/lint.py writes and checks them), and the build hands it to Maven and to the Dockerfile."""

import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import yaml

from tools import REPO_ROOT
from tools.base import versions
from tools.base.profiles import Profile
from tools.checks import lint
from tools.image import build as image_build
from tools.render import render

POM = "{http://maven.apache.org/POM/4.0.0}"


def statefulset_image(profile: Profile) -> str:
    docs = [d for d in yaml.safe_load_all(render(profile)) if d]
    (statefulset,) = [d for d in docs if d["kind"] == "StatefulSet"]
    return statefulset["spec"]["template"]["spec"]["containers"][0]["image"]


def test_every_file_names_the_image_that_tools_image_builds():
    tag = versions.image_version()
    assert f"kube-zookeeper:{tag}" == image_build.TAG
    assert lint.stale_versions() == []
    pom = ET.parse(REPO_ROOT / "image" / "pom.xml").getroot()
    zookeeper_version = pom.find(f"{POM}properties/{POM}zookeeper.version").text
    assert pom.find(f"{POM}version").text == "${revision}"  # tools.image passes -Drevision=<image/VERSION>
    assert tag.startswith(zookeeper_version + "-")
    dockerfile = (REPO_ROOT / "image" / "Dockerfile").read_text()
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert re.search(r'org\.opencontainers\.image\.version="([^"]+)"', final_stage).group(1) == "${VERSION}"
    assert final_stage.index("\nARG VERSION\n") < final_stage.index("org.opencontainers.image.version")
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


def test_the_build_hands_image_version_to_maven_and_to_the_dockerfile(monkeypatch, tmp_path):
    commands, builds = [], []
    monkeypatch.setattr(image_build.progress, "say", lambda line: None)  # nothing is fetched or built
    monkeypatch.setattr(image_build, "which", lambda program, hint: program)
    monkeypatch.setattr(image_build, "run", lambda argv, **kwargs: commands.append(argv))
    image_build.fetch_jars(tmp_path / "jars")
    assert f"-Drevision={versions.image_version()}" in commands[0]

    monkeypatch.setattr(image_build, "stage_context", lambda update_lock=False: tmp_path)
    engine = SimpleNamespace(name="podman", ensure_base_image=lambda: False,
                             build=lambda context, tag, **options: builds.append((context, tag, options)))
    image_build.build(engine, "kube-zookeeper:test")
    assert builds == [(tmp_path, "kube-zookeeper:test",
                       {"no_cache": False, "build_args": {"VERSION": versions.image_version()},
                        "labels": {image_build.SOURCES_LABEL: image_build.sources_digest()}})]


# Besides image/VERSION and the places tools/checks/lint.py writes (the docs' image tags among them), only test data
# that stands for any pinned tag may spell the image version out.
EXAMPLES = ("tests/fixtures/policy/", "tests/policy/test_rules.py")
SKIPPED_DIRS = {".git", ".nox", "build", "__pycache__", ".pytest_cache", ".ruff_cache"}


def test_the_image_version_is_spelled_out_only_where_lint_writes_it():
    version = versions.image_version()
    pinned = {str(p.path.relative_to(REPO_ROOT)) for p in lint.pinned_values()[0]}
    naming = []
    for path in REPO_ROOT.rglob("*"):
        relative = path.relative_to(REPO_ROOT)
        if SKIPPED_DIRS & set(relative.parts) or not path.is_file():
            continue
        try:
            if version in path.read_text(encoding="utf-8"):
                naming.append(str(relative))
        except UnicodeDecodeError:
            continue
    unexpected = [name for name in naming if name not in pinned | {versions.IMAGE_VERSION_FILE}
                  and not name.startswith(EXAMPLES)]
    assert unexpected == [], f"these files spell out {version}: read it from image/VERSION (tools.versions)"
