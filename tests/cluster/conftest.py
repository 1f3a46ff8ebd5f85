"""Tests on a real control plane share one, started once per test session in a temporary directory.

They need the binaries `nox -s cluster -- up` builds once (about 17 minutes on 2 cores); without them they are
skipped, saying so."""

import pytest

from tools.cluster import build
from tools.cluster.control_plane import LocalCluster


@pytest.fixture(scope="session")
def cluster_binaries() -> None:
    if not build.built():
        pytest.skip("cluster binaries not built yet: run `nox -s cluster -- up` once")


@pytest.fixture(scope="session")
def cluster(cluster_binaries, tmp_path_factory) -> LocalCluster:
    local = LocalCluster(tmp_path_factory.mktemp("cluster") / "state", progress=lambda line: None)
    local.up(nodes=3, zones=3)
    yield local
    local.down(quiet=True)
