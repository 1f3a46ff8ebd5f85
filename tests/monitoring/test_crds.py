"""The prometheus-operator CRDs from the pinned Go module, and kubeconform validating against the schemas made from
them (strict: a misspelt field fails), for the oldest and newest Kubernetes versions."""

from __future__ import annotations

import pytest
import yaml

from tools.base import versions
from tools.base.errors import ToolMissing, UserError
from tools.checks.validate import schema_findings
from tools.cli.kubeconform import Kubeconform
from tools.render import crds, schemas


@pytest.fixture(scope="module")
def crd_files():
    try:
        return crds.crd_paths()
    except ToolMissing as exc:
        pytest.skip(f"cannot fetch the CRDs: {exc}")


def test_the_three_crds_come_from_the_pinned_module(crd_files):
    docs = [yaml.safe_load(path.read_text()) for path in crd_files]
    assert [(d["kind"], d["spec"]["group"], d["spec"]["names"]["kind"]) for d in docs] == [
        ("CustomResourceDefinition", "monitoring.coreos.com", kind)
        for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule")]
    assert all(f"@{versions.PROMETHEUS_OPERATOR_VERSION}" in str(path) for path in crd_files)
    assert crds.crd_documents() == docs


def test_a_module_whose_hash_differs_from_the_pin_is_refused(crd_files, monkeypatch):
    monkeypatch.setattr(versions, "PROMETHEUS_OPERATOR_SUM", "h1:" + "A" * 43 + "=")
    crds.module_dir.cache_clear()
    try:
        with pytest.raises(UserError, match="differs from the pinned"):
            crds.module_dir()
    finally:
        crds.module_dir.cache_clear()


def test_strict_closes_objects_that_list_properties_but_not_open_ones():
    schema = {"type": "object", "properties": {
        "a": {"type": "object", "properties": {"b": {"type": "string"}}},
        "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"c": {}}},
        "map": {"type": "object", "additionalProperties": {"type": "string"}},
        "list": {"type": "array", "items": {"type": "object", "properties": {"d": {"type": "integer"}}}}}}
    out = crds.strict(schema)
    assert out["additionalProperties"] is False and out["properties"]["a"]["additionalProperties"] is False
    assert "additionalProperties" not in out["properties"]["open"]
    assert out["properties"]["map"]["additionalProperties"] == {"type": "string"}
    assert out["properties"]["list"]["items"]["additionalProperties"] is False


MONITORING_OBJECTS = """\
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: sm}
spec:
  selector: {matchLabels: {app: zk}}
  endpoints: [{port: metrics, interval: 30s}]
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: pm}
spec:
  selector: {matchLabels: {app: zk}}
  podMetricsEndpoints: [{port: metrics}]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: pr}
spec:
  groups: [{name: g, rules: [{alert: A, expr: up == 0, for: 5m}]}]
"""


@pytest.fixture(scope="module")
def edge_versions(crd_files) -> list[str]:
    try:
        Kubeconform.pinned()
    except ToolMissing as exc:
        pytest.skip(f"kubeconform is not available: {exc}")
    found = schemas.kubernetes_versions()
    return [found[0], found[-1]]


def test_kubeconform_passes_the_three_kinds(tmp_path, edge_versions):
    path = tmp_path / "monitoring.yaml"
    path.write_text(MONITORING_OBJECTS)
    assert schema_findings([path], edge_versions) == []


@pytest.mark.parametrize(("old", "new", "where"), [
    ("interval: 30s", "intervall: 30s", "ServiceMonitor/sm: at /spec/endpoints/0: additional properties 'intervall'"),
    ("podMetricsEndpoints: [{port: metrics}]", "podMetricsEndpoints: {port: metrics}",
     "PodMonitor/pm: at /spec/podMetricsEndpoints: got object, want array"),
    ("for: 5m", "for: five minutes", "PrometheusRule/pr: at /spec/groups/0/rules/0/for: 'five minutes' does not match"),
])
def test_kubeconform_fails_a_broken_field_at_every_version(tmp_path, edge_versions, old, new, where):
    path = tmp_path / "monitoring.yaml"
    path.write_text(MONITORING_OBJECTS.replace(old, new))
    (finding,) = schema_findings([path], edge_versions)
    assert where in finding and finding.endswith(f"[Kubernetes {edge_versions[0]}..{edge_versions[1]}]")
