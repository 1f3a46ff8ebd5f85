"""Shared fixtures: the repository root and the tutorial's manifest."""

import re
from pathlib import Path

import pytest

from tools import REPO_ROOT

TUTORIAL = REPO_ROOT.parent / "shared" / "reference" / "zookeeper-statefulset-tutorial.md"


@pytest.fixture(scope="session")
def tutorial_manifest(tmp_path_factory) -> Path:
    """The tutorial's zookeeper.yaml (its first yaml block), extracted at test time into a file."""
    if not TUTORIAL.exists():
        pytest.skip(f"the tutorial is not at {TUTORIAL}")
    block = re.search(r"```yaml\n(.*?)```", TUTORIAL.read_text(), re.S)
    path = tmp_path_factory.mktemp("tutorial") / "zookeeper.yaml"
    path.write_text(block.group(1))
    return path
