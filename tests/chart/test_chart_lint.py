"""`helm lint --strict` is clean for the defaults and every ci values file, and does fail on a broken chart."""

import re
import shutil

import pytest
from chart_helpers import CHART, CI_VALUES

from tools.base import versions
from tools.cli.helm import Helm


@pytest.mark.parametrize("env", ["default", *CI_VALUES])
def test_helm_lint_strict_is_clean(env):
    values = [] if env == "default" else [CI_VALUES[env]]
    result = Helm().lint(CHART, values=values, strict=True)
    assert result.code == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout


def test_helm_lint_strict_fails_on_values_the_schema_refuses(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("replicas: 4\n")
    result = Helm().lint(CHART, values=[values], strict=True)
    assert result.code != 0
    assert "at '/replicas': value must be one of 1, 3, 5, 7, 9" in result.stdout + result.stderr


def test_helm_lint_strict_fails_on_a_template_error(tmp_path):
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    statefulset = chart / "templates" / "statefulset.yaml"
    text = statefulset.read_text()
    assert 'include "zookeeper.validateValues"' in text
    statefulset.write_text(text.replace('include "zookeeper.validateValues"', 'include "zookeeper.validateValue"'))
    result = Helm().lint(chart, strict=True)
    assert result.code != 0
    assert "statefulset.yaml" in result.stdout + result.stderr


def test_the_pinned_helm_renders_for_a_current_kubernetes_without_kube_version(tmp_path):
    """helm built without its Makefile's ldflags says v1.20.0 and the chart's kubeVersion >=1.25 refuses it."""
    assert "kind: StatefulSet" in Helm().template(CHART, values=[CHART / "ci" / "kind-values.yaml"])
    probe = tmp_path / "probe"
    (probe / "templates").mkdir(parents=True)
    (probe / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (probe / "templates" / "kube.yaml").write_text("kube: {{ .Capabilities.KubeVersion.Version }}\n")
    rendered = Helm().template(probe, release="probe")
    minor = int(re.search(r"kube: v1\.(\d+)\.\d+", rendered).group(1))
    assert minor == int(versions.HELM_KUBERNETES_VERSION.split(".")[1]) and minor >= 25
    assert Helm().version() == versions.HELM_VERSION
