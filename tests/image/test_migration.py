"""An ensemble of the static-config image (every server listed in zoo.cfg from ZOO_SERVERS) rolls onto this image one
member at a time, highest ordinal first, under a counting writer: every member keeps its data, takes the membership
from the leading peer, and once all run this image the ensemble reconfigures (3 -> 5) on its own."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from dataclasses import replace
from io import BytesIO

import pytest

from tools import REPO_ROOT
from tools.base.profiles import Profile
from tools.image.build import CONTEXT_DIR
from tools.smoke.scenarios.scale import ScaleScenario
from tools.smoke.targets.local import LocalTarget

pytestmark = pytest.mark.slow

STATIC_IMAGE_COMMIT = "31c150f371721545a424fac0aa225f2fc45a6d40"  # the last image whose start.sh wrote server.N lines
STATIC_TAG = "kube-zookeeper:static-config-test"


@pytest.fixture(scope="module")
def static_image(engine, zk_image, tmp_path_factory) -> str:
    """The image as of STATIC_IMAGE_COMMIT (its image/ directory), with the jars this checkout verified."""
    archive = subprocess.run(["git", "archive", "--format=tar", STATIC_IMAGE_COMMIT, "image"], cwd=REPO_ROOT,
                             capture_output=True, timeout=60)  # fmt: skip
    if archive.returncode != 0:
        pytest.skip(f"commit {STATIC_IMAGE_COMMIT[:7]} (the static-config image) is not in this clone")
    root = tmp_path_factory.mktemp("static-image")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(root, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))  # 3.11.4+ has it
    shutil.copytree(CONTEXT_DIR / "jars", root / "image" / "jars")
    engine.build(root / "image", STATIC_TAG)
    return STATIC_TAG


def test_a_static_config_ensemble_rolls_onto_dynamic_membership_keeping_every_write(engine, zk_image, static_image):
    target = LocalTarget(engine, Profile("overlay", "kind"))
    dynamic = target.template
    settings = {key: value for key, value in dynamic.env.items() if key != "ZOO_SERVERS"}  # the new ConfigMap
    target.template = replace(dynamic, image=static_image, env={**settings, "ZOO_SERVERS": "3"})
    scenario = ScaleScenario(target, progress=lambda line: None)
    data = "/var/lib/zookeeper/data"
    try:
        scenario.deploy_three()
        scenario.start_writer()
        has_dynamic = ["bash", "-c", f"compgen -G '{data}/zoo.cfg.dynamic.*'"]
        assert engine.exec(target.container(0), has_dynamic).code != 0  # the old image keeps no membership file

        target.template = replace(dynamic, image=zk_image, env=settings)
        scenario.rolling_restart("migration")
        for member in range(3):
            assert engine.exec(target.container(member), has_dynamic).code == 0, member
        for member in range(3):  # from the leader's conf, or (the leader was the one replaced) from its own count
            log = engine.logs(target.container(member))
            assert "from the leading peer" in log or "a volume of the static-config image" in log, member
        assert "from the leading peer" in engine.logs(target.container(0))  # the last: a new-image member leads

        scenario.scale("scale_3_to_5", 5)  # reconfiguration works once every member runs this image
        detail = scenario.verify_writes()
    finally:
        target.teardown(keep_volumes=False)
    assert scenario.report.measurements["acknowledged_writes_lost"] == 0, detail
    assert scenario.report.measurements["writes_acknowledged"] > 20
