"""values.schema.json refuses bad values at `helm template` with the schema's message (what `helm install` runs too)."""

from pathlib import Path

import pytest
from chart_helpers import CHART

from tools import helm
from tools.run import CommandError

SCHEMA_FAILURE = "values don't meet the specifications of the schema"


def template_error(tmp_path: Path, values_yaml: str) -> str:
    values = tmp_path / "bad-values.yaml"
    values.write_text(values_yaml)
    with pytest.raises(CommandError) as failure:
        helm.template(CHART, values=[values])
    assert failure.value.result.code != 0
    return failure.value.result.stderr


def test_a_string_where_a_number_belongs_is_refused(tmp_path):
    stderr = template_error(tmp_path, 'replicas: "three"\n')
    assert SCHEMA_FAILURE in stderr
    assert "at '/replicas': got string, want integer" in stderr


def test_a_misspelt_top_level_key_is_refused(tmp_path):
    stderr = template_error(tmp_path, "replica: 5\n")
    assert SCHEMA_FAILURE in stderr
    assert "additional properties 'replica' not allowed" in stderr


def test_zero_replicas_is_refused(tmp_path):
    stderr = template_error(tmp_path, "replicas: 0\n")
    assert SCHEMA_FAILURE in stderr
    assert "at '/replicas': minimum: got 0, want 1" in stderr


def test_a_misspelt_nested_key_is_refused(tmp_path):
    stderr = template_error(tmp_path, "persistence:\n  sise: 2Gi\n")
    assert "at '/persistence': additional properties 'sise' not allowed" in stderr


@pytest.mark.parametrize(("values_yaml", "message"), [
    ("image:\n  tag: latest\n", "at '/image/tag'"),
    ("ports:\n  client: 70000\n", "at '/ports/client': maximum: got 70,000, want 65,535"),
    ("zookeeper:\n  fourLetterWords: [ruok, mntr]\n", "at '/zookeeper/fourLetterWords'"),
    ("antiAffinity: always\n", "at '/antiAffinity'"),
    ("heap: 512\n", "at '/heap': got number, want string"),
])
def test_out_of_range_and_unknown_choices_are_refused(tmp_path, values_yaml, message):
    stderr = template_error(tmp_path, values_yaml)
    assert SCHEMA_FAILURE in stderr and message in stderr


@pytest.mark.parametrize(("values_yaml", "message"), [
    ("zookeeper:\n  minSessionTimeout: 50000\n",
     "zookeeper.minSessionTimeout (50000) must not exceed zookeeper.maxSessionTimeout (40000)"),
    ("ports:\n  metrics: 2181\n", "ports: client, server, leaderElection and metrics must differ"),
])
def test_what_the_schema_cannot_express_fails_in_the_template(tmp_path, values_yaml, message):
    assert message in template_error(tmp_path, values_yaml)


def test_openshift_values_remove_the_pinned_uid_without_breaking_the_schema():
    """null in a values file deletes the default key; the schema sees the result, not the null."""
    text = helm.template(CHART, values=[CHART / "ci" / "openshift-values.yaml"])
    assert "runAsUser" not in text and "fsGroup" not in text and "runAsGroup" not in text
