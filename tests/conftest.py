"""Shared fixtures: the tutorial's manifest, and a container engine with the built image (session-wide)."""

import shutil
import sys
import threading
from pathlib import Path

import pytest

from tools.base import progress
from tools.base.errors import ToolMissing
from tools.cli.engine import BASE_IMAGE, Engine
from tools.image import build as image_build

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def progress_past_capture(pytestconfig):
    """Slow steps in fixtures (go install, debootstrap, Maven, the image build, the schema build) print their progress
    lines on the terminal, not into captured output that only shows on failure."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    lock = threading.Lock()

    def to_terminal(line: str) -> None:
        with lock, capture.global_and_fixture_disabled():
            print(line, file=sys.stderr, flush=True)

    progress.set_sink(to_terminal)
    yield
    progress.set_sink(None)


@pytest.fixture(scope="session")
def tutorial_manifest() -> Path:
    """The tutorial's zookeeper.yaml (policy/v1beta1 PDB, no memory limit, root-capable, unwhitelisted probes)."""
    return FIXTURES / "tutorial-zookeeper.yaml"


@pytest.fixture(scope="session")
def engine() -> Engine:
    try:
        found = Engine.detect()
    except ToolMissing as exc:
        pytest.skip(f"no container engine: {exc}")
    if found.name == "podman" and not shutil.which("debootstrap") and not found.image_exists(BASE_IMAGE):
        pytest.skip("podman has no Debian base image and debootstrap is missing to make one")
    found.ensure_base_image()
    trial = found.cli("run", "--rm", BASE_IMAGE, "true", check=False, timeout=120)
    if trial.code != 0:
        pytest.skip(f"{found.name} cannot run containers here: {trial.stderr.strip()[:300]}")
    return found


@pytest.fixture(scope="session")
def zk_image(engine: Engine) -> str:
    """The image tag, built once per session (the layer cache makes a rebuild quick); a failed build fails."""
    if not shutil.which("mvn"):
        pytest.skip("mvn not found: it fetches the pinned ZooKeeper jars")
    image_build.build(engine, image_build.TAG)
    return image_build.TAG
