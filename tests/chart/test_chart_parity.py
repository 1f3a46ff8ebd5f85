"""tools.checks.parity on real renders: every environment's chart matches its overlay, and a drift is reported
precisely."""

import os
import subprocess
import sys

import pytest
import yaml
from chart_helpers import CI_VALUES

from tools import REPO_ROOT
from tools.base.profiles import ENVIRONMENTS, Profile, select
from tools.checks import parity
from tools.cli.helm import Helm
from tools.mutate import copy_repository
from tools.render import render_all


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[Profile, object]:
    names = [f"{source}-{env}" for env in ENVIRONMENTS for source in ("overlay", "chart")]
    return render_all(select(names), tmp_path_factory.mktemp("build"))


def paths_of(rendered, env):
    by_name = {p.name: path for p, path in rendered.items()}
    return by_name[f"overlay-{env}"], by_name[f"chart-{env}"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_chart_renders_what_the_overlay_renders(rendered, env):
    differences = [d for d in parity.check(rendered) if d.env == env]
    assert differences == [], "\n".join(map(str, differences))


def test_a_changed_memory_limit_is_reported_with_object_field_and_both_values(rendered, tmp_path):
    overlay_file, chart_file = paths_of(rendered, "kind")
    values = yaml.safe_load(CI_VALUES["kind"].read_text())
    assert values["resources"]["limits"]["memory"] == "512Mi"
    values["resources"]["limits"]["memory"] = "1Gi"
    drifted_values = tmp_path / "kind-values.yaml"
    drifted_values.write_text(yaml.safe_dump(values))
    drifted_chart = tmp_path / "chart-kind.yaml"
    drifted_chart.write_text(Helm().template(REPO_ROOT / "chart", values=[drifted_values]))

    baseline = set(map(str, parity.compare("kind", overlay_file, chart_file)))
    new = [d for d in parity.compare("kind", overlay_file, drifted_chart) if str(d) not in baseline]

    assert len(new) == 1, "\n".join(map(str, new))
    (difference,) = new
    assert difference.obj == "StatefulSet/zookeeper"
    assert difference.path == "spec.template.spec.containers[zookeeper].resources.limits.memory"
    assert (difference.overlay, difference.chart) == ("512Mi", "1Gi")
    assert str(difference) == ("kind: StatefulSet/zookeeper spec.template.spec.containers[zookeeper]"
                               ".resources.limits.memory: overlay 512Mi, chart 1Gi")


def test_the_release_name_and_namespace_do_not_count_as_differences(rendered, tmp_path):
    overlay_file, chart_file = paths_of(rendered, "production")
    other = tmp_path / "chart-production.yaml"
    other.write_text(Helm(namespace="payments").template(REPO_ROOT / "chart", release="payments-zk",
                                                         values=[CI_VALUES["production"]]))
    assert "payments-zk-zookeeper-headless" in other.read_text()
    assert list(map(str, parity.compare("production", overlay_file, other))) == \
        list(map(str, parity.compare("production", overlay_file, chart_file)))


def test_a_setting_in_the_configmap_is_compared_by_value(rendered, tmp_path):
    overlay_file, chart_file = paths_of(rendered, "minikube")
    drifted = tmp_path / "chart-minikube.yaml"
    drifted.write_text(Helm().template(REPO_ROOT / "chart", values=[CI_VALUES["minikube"]], set_values=["heap=300M"]))
    baseline = set(map(str, parity.compare("minikube", overlay_file, chart_file)))
    new = [str(d) for d in parity.compare("minikube", overlay_file, drifted) if str(d) not in baseline]
    assert new == ["minikube: ConfigMap/zookeeper-config data.ZOO_HEAP: overlay 256M, chart 300M"]


def test_an_object_only_one_side_renders_is_reported(rendered, tmp_path):
    overlay_file, chart_file = paths_of(rendered, "openshift")
    docs = [d for d in yaml.safe_load_all(overlay_file.read_text()) if d and d["kind"] != "PodDisruptionBudget"]
    without_pdb = tmp_path / "overlay-openshift.yaml"
    without_pdb.write_text(yaml.safe_dump_all(docs))
    reported = list(map(str, parity.compare("openshift", without_pdb, chart_file)))
    assert "openshift: PodDisruptionBudget/zookeeper: only the chart renders it" in reported


def test_the_extra_datalog_volume_shows_as_a_list_item_matched_by_name(rendered, tmp_path):
    overlay_file, _ = paths_of(rendered, "production")
    chart = tmp_path / "chart-production.yaml"
    chart.write_text(Helm().template(REPO_ROOT / "chart", values=[CI_VALUES["production"]],
                                   set_values=["persistence.dataLog.enabled=false"]))
    reported = list(map(str, parity.compare("production", overlay_file, chart)))
    assert any(r.startswith("production: StatefulSet/zookeeper spec.volumeClaimTemplates[datalogdir]: overlay {")
               and r.endswith(", chart (absent)") for r in reported), reported
    assert any(r.startswith("production: StatefulSet/zookeeper "
                            "spec.template.spec.containers[zookeeper].volumeMounts[datalogdir]:") for r in reported)


def test_the_command_line_renders_compares_and_exits_zero_when_they_match(rendered, tmp_path):
    assert [d for d in parity.check(rendered) if d.env == "kind"] == []  # as the test above requires
    result = subprocess.run([sys.executable, "-m", "tools.checks.parity", "kind", "--build-dir", str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "parity: chart and overlays match for kind"
    assert {p.name for p in tmp_path.glob("*.yaml")} == {"overlay-kind.yaml", "chart-kind.yaml"}


def test_the_command_line_prints_each_difference_and_exits_one(tmp_path):
    """In a copy of the repository whose kind values file drifted from the overlay."""
    copy = copy_repository(REPO_ROOT, tmp_path / "repo")
    values = copy / "chart" / "ci" / "kind-values.yaml"
    text = values.read_text()
    assert text.count("  limits:\n    memory: 512Mi\n") == 1
    values.write_text(text.replace("  limits:\n    memory: 512Mi\n", "  limits:\n    memory: 640Mi\n"))
    result = subprocess.run([sys.executable, "-m", "tools.checks.parity", "kind", "--build-dir",
                             str(tmp_path / "build")], capture_output=True, text=True, cwd=copy, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(copy)})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        "kind: StatefulSet/zookeeper spec.template.spec.containers[zookeeper].resources.limits.memory: "
        "overlay 512Mi, chart 640Mi",
        "parity: 1 difference(s) between the chart and the overlays",
    ]


def test_an_unknown_environment_is_a_clean_error():
    result = subprocess.run([sys.executable, "-m", "tools.checks.parity", "staging"], capture_output=True, text=True,
                            cwd=REPO_ROOT, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "unknown environment staging" in result.stderr
