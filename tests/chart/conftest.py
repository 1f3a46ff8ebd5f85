"""Chart tests run the real, pinned helm (tools.base.toolcache); without it (and without Go to build it) they skip."""

import pytest

from tools.base.errors import ToolMissing
from tools.cli import helm


@pytest.fixture(scope="session", autouse=True)
def helm_binary() -> str:
    try:
        return helm.binary()
    except ToolMissing as exc:
        pytest.skip(f"helm is not available: {exc}")
