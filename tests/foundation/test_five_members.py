"""Scaling to five is one change per path: components/five-members for an overlay, `replicas` for the chart."""

import shutil
from pathlib import Path

import pytest
import yaml

from tools import REPO_ROOT, helm, parity, policy
from tools.errors import ToolMissing
from tools.profiles import Profile
from tools.render import render_all

COMPONENT = "  - ../../components/five-members\n"


@pytest.fixture(scope="module")
def five(tmp_path_factory) -> dict[str, Path]:
    """overlay-production with the component added to its components (the README's recipe), and
    chart-production with --set replicas=5, rendered."""
    root = tmp_path_factory.mktemp("repo")
    for part in ("base", "components", "overlays", "chart"):
        shutil.copytree(REPO_ROOT / part, root / part)
    kustomization = root / "overlays/production/kustomization.yaml"
    text = kustomization.read_text()
    anchor = "  - ../../components/registry-image\n"
    assert text.count(anchor) == 1
    kustomization.write_text(text.replace(anchor, anchor + COMPONENT))
    (overlay,) = render_all([Profile("overlay", "production", root)], root / "build").values()
    try:
        chart_text = helm.template(root / "chart", values=[Profile("chart", "production", root).path],
                                   set_values=["replicas=5"])
    except ToolMissing as exc:
        pytest.skip(f"helm is not available: {exc}")
    chart = root / "build/chart-production.yaml"
    chart.write_text(chart_text)
    return {"overlay": overlay, "chart": chart}


def objects(path: Path) -> dict[str, dict]:
    """The StatefulSet and the ConfigMap of the ZooKeeper settings (production also has a dashboard ConfigMap)."""
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    (statefulset,) = [d for d in docs if d["kind"] == "StatefulSet"]
    (settings,) = [d for d in docs if d["kind"] == "ConfigMap" and "ZOO_SERVERS" in (d.get("data") or {})]
    return {"StatefulSet": statefulset, "ConfigMap": settings}


@pytest.mark.parametrize("source", ["overlay", "chart"])
def test_replicas_and_the_server_count_are_both_five(five, source):
    found = objects(five[source])
    assert found["StatefulSet"]["spec"]["replicas"] == 5
    assert found["ConfigMap"]["data"]["ZOO_SERVERS"] == "5"


@pytest.mark.parametrize("source", ["overlay", "chart"])
def test_five_members_pass_the_policy_rules(five, source):
    findings = policy.check_files([five[source]], "production")
    assert [(f.rule, f.message) for f in findings if f.severity == "error"] == []


def test_the_component_and_the_chart_value_render_the_same_ensemble(five):
    differences = parity.compare("production", five["overlay"], five["chart"])
    assert [str(d) for d in differences] == []


def test_the_production_overlay_still_has_three_members(tmp_path):
    """The component is opt-in: the overlay itself keeps 3 (ZOO_SERVERS comes from the base alone)."""
    (rendered,) = render_all([Profile("overlay", "production")], tmp_path).values()
    found = objects(rendered)
    assert found["StatefulSet"]["spec"]["replicas"] == 3 and found["ConfigMap"]["data"]["ZOO_SERVERS"] == "3"
