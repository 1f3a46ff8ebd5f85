"""Rendering the chart for the tests: the real, pinned helm through tools.cli.helm."""

from __future__ import annotations

from pathlib import Path

import yaml

from tools import REPO_ROOT
from tools.base.profiles import ENVIRONMENTS
from tools.cli.helm import Helm

CHART = REPO_ROOT / "chart"
CI_VALUES = {env: CHART / "ci" / f"{env}-values.yaml" for env in ENVIRONMENTS}


def render(release: str = "zk", namespace: str = "default", values: list[Path] = (),
           set_values: list[str] = ()) -> list[dict]:
    """The chart's objects as plain dicts (helm template with the pinned Kubernetes version)."""
    text = Helm(namespace=namespace).template(CHART, release=release, values=list(values),
                                              set_values=list(set_values))
    return [doc for doc in yaml.safe_load_all(text) if doc]


def one(objects: list[dict], kind: str, name: str | None = None) -> dict:
    """The single object of a kind (and name); fails the test when there is not exactly one."""
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {[o['metadata']['name'] for o in found]}"
    return found[0]
