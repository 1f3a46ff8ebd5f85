"""Shared fixtures."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def tutorial_manifest() -> Path:
    """The tutorial's zookeeper.yaml (policy/v1beta1 PDB, no memory limit, root-capable, unwhitelisted probes)."""
    return FIXTURES / "tutorial-zookeeper.yaml"
