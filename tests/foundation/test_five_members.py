"""Scaling to five is one change per path: components/five-members for an overlay, `replicas` for the chart; and that
change touches no member's pod template, so the members that stay are not restarted."""

import shutil
from pathlib import Path

import pytest
import yaml

from tools import REPO_ROOT
from tools.base.errors import ToolMissing
from tools.base.profiles import Profile
from tools.checks import parity, policy
from tools.cli.helm import Helm
from tools.render import render_all

COMPONENT = "  - ../../components/five-members\n"


ENSEMBLE_DIR = "/etc/zookeeper/ensemble"


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> dict[str, Path]:
    """overlay-production and chart-production as they are, rendered."""
    root = tmp_path_factory.mktemp("three")
    rendered = render_all([Profile("overlay", "production"), Profile("chart", "production")], root)
    return {profile.source: path for profile, path in rendered.items()}


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
        chart_text = Helm().template(root / "chart", values=[Profile("chart", "production", root).path],
                                   set_values=["replicas=5"])
    except ToolMissing as exc:
        pytest.skip(f"helm is not available: {exc}")
    chart = root / "build/chart-production.yaml"
    chart.write_text(chart_text)
    return {"overlay": overlay, "chart": chart}


def objects(path: Path) -> dict[str, dict]:
    """The StatefulSet and the ConfigMap its members mount at /etc/zookeeper/ensemble (the count they read)."""
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    (statefulset,) = [d for d in docs if d["kind"] == "StatefulSet"]
    pod = statefulset["spec"]["template"]["spec"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == ENSEMBLE_DIR]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    (ensemble,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == volume["configMap"]["name"]]
    return {"StatefulSet": statefulset, "ConfigMap": ensemble}


@pytest.mark.parametrize("source", ["overlay", "chart"])
def test_replicas_and_the_count_the_members_read_are_both_five(five, source):
    found = objects(five[source])
    assert found["StatefulSet"]["spec"]["replicas"] == 5
    assert found["ConfigMap"]["data"]["replicas"] == "5"


@pytest.mark.parametrize("source", ["overlay", "chart"])
def test_scaling_leaves_the_pod_template_alone(three, five, source):
    """The StatefulSet controller restarts a member only when the pod template changes (a new controller revision):
    3 and 5 members must render the same template, ConfigMap hash suffixes and checksum/config included."""
    before, after = objects(three[source])["StatefulSet"], objects(five[source])["StatefulSet"]
    assert before["spec"]["replicas"] == 3 and after["spec"]["replicas"] == 5
    assert after["spec"]["template"] == before["spec"]["template"]
    assert {k: v for k, v in after["spec"].items() if k != "replicas"} == {
        k: v for k, v in before["spec"].items() if k != "replicas"
    }


@pytest.mark.parametrize("source", ["overlay", "chart"])
def test_the_count_lives_under_a_name_that_does_not_change(three, five, source):
    """No hash suffix on the ensemble ConfigMap: a new name would change the pod template's volume."""
    assert objects(five[source])["ConfigMap"]["metadata"]["name"] == objects(three[source])["ConfigMap"]["metadata"][
        "name"]


@pytest.mark.parametrize("source", ["overlay", "chart"])
def test_five_members_pass_the_policy_rules(five, source):
    findings = policy.check_files([five[source]], "production")
    assert [(f.rule, f.message) for f in findings if f.severity == "error"] == []


def test_the_component_and_the_chart_value_render_the_same_ensemble(five):
    differences = parity.compare("production", five["overlay"], five["chart"])
    assert [str(d) for d in differences] == []


def test_the_production_overlay_still_has_three_members(three):
    """The component is opt-in: the overlay itself keeps 3."""
    found = objects(three["overlay"])
    assert found["StatefulSet"]["spec"]["replicas"] == 3 and found["ConfigMap"]["data"]["replicas"] == "3"
