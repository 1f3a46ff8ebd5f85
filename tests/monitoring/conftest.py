"""Monitoring tests: the rendered production profiles (both paths), and promtool, which they skip without."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.base.errors import ToolMissing
from tools.base.profiles import Profile
from tools.cli.promtool import Promtool
from tools.render import render
from tools.render.manifests import Manifest, load_text

HERE = Path(__file__).resolve().parent
RULES_TEST = HERE / "zookeeper-rules-test.yaml"


@pytest.fixture(scope="session")
def promtool_binary() -> str:
    try:
        return Promtool.pinned().program
    except ToolMissing as exc:
        pytest.skip(f"promtool is not available: {exc}")


@pytest.fixture(scope="session")
def production() -> dict[str, list[Manifest]]:
    """overlay-production and chart-production, rendered and parsed."""
    found = {}
    for source in ("overlay", "chart"):
        profile = Profile(source, "production")
        found[profile.name] = load_text(render(profile), Path(f"{profile.name}.yaml"))
    return found
