"""`helm lint --strict` is clean for the defaults and every ci values file, and does fail on a broken chart."""

import shutil

import pytest
from chart_helpers import CHART, CI_VALUES

from tools import helm


@pytest.mark.parametrize("env", ["default", *CI_VALUES])
def test_helm_lint_strict_is_clean(env):
    values = [] if env == "default" else [CI_VALUES[env]]
    result = helm.lint(CHART, values=values, strict=True)
    assert result.code == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout


def test_helm_lint_strict_fails_on_values_the_schema_refuses(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("replicas: 0\n")
    result = helm.lint(CHART, values=[values], strict=True)
    assert result.code != 0
    assert "minimum: got 0, want 1" in result.stdout + result.stderr


def test_helm_lint_strict_fails_on_a_template_error(tmp_path):
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    statefulset = chart / "templates" / "statefulset.yaml"
    text = statefulset.read_text()
    assert 'include "zookeeper.validateValues"' in text
    statefulset.write_text(text.replace('include "zookeeper.validateValues"', 'include "zookeeper.validateValue"'))
    result = helm.lint(chart, strict=True)
    assert result.code != 0
    assert "statefulset.yaml" in result.stdout + result.stderr
