"""The built image, once per test session; skipped with the reason when no container engine can run it here."""

from __future__ import annotations

import shutil

import pytest

from tools import image
from tools.engine import BASE_IMAGE, Engine
from tools.errors import ToolMissing


@pytest.fixture(scope="session")
def engine() -> Engine:
    try:
        found = Engine.detect()
    except ToolMissing as exc:
        pytest.skip(f"no container engine: {exc}")
    if found.name == "podman" and not shutil.which("debootstrap") and not found.image_exists(BASE_IMAGE):
        pytest.skip("podman has no Debian base image and debootstrap is missing to make one")
    return found


@pytest.fixture(scope="session")
def zk_image(engine: Engine) -> str:
    """The image tag, built (layer cache makes a rebuild quick) and able to run a container here."""
    if not shutil.which("mvn"):
        pytest.skip("mvn not found: it fetches the pinned ZooKeeper jars")
    image.build(engine, image.TAG)
    trial = engine.cli("run", "--rm", "--entrypoint", "true", image.TAG, check=False, timeout=120)
    if trial.code != 0:
        pytest.skip(f"{engine.name} cannot run containers here: {trial.stderr.strip()[:300]}")
    return image.TAG
