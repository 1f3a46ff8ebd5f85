"""The chart's monitoring and NetworkPolicy values: each switch renders its objects and nothing else, names follow
the release, client peers and labels pass through (test_chart_schema refuses malformed ones)."""

from __future__ import annotations

import pytest
from chart_helpers import CHART, one, render

from tools import REPO_ROOT

MONITORING = {"metrics.serviceMonitor.enabled": {("Service", "zk-zookeeper-metrics"),
                                                  ("ServiceMonitor", "zk-zookeeper")},
              "metrics.rules.enabled": {("PrometheusRule", "zk-zookeeper")},
              "metrics.dashboard.enabled": {("ConfigMap", "zk-zookeeper-dashboard")},
              "networkPolicy.enabled": {("NetworkPolicy", "zk-zookeeper"), ("NetworkPolicy", "zk-zookeeper-test")}}


def names(objects: list[dict]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objects}


def test_defaults_render_none_of_them():
    rendered = names(render())
    assert not set().union(*MONITORING.values()) & rendered


@pytest.mark.parametrize("switch", MONITORING)
def test_each_switch_renders_only_its_objects(switch):
    assert names(render(set_values=[f"{switch}=true"])) - names(render()) == MONITORING[switch]


def test_the_service_monitor_scrapes_the_metrics_service_of_every_member():
    objects = render(set_values=["metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.interval=15s",
                                 "metrics.serviceMonitor.labels.release=kube-prometheus-stack"])
    service, monitor = one(objects, "Service", "zk-zookeeper-metrics"), one(objects, "ServiceMonitor")
    statefulset = one(objects, "StatefulSet")
    assert service["spec"]["publishNotReadyAddresses"] is True and service["spec"]["clusterIP"] == "None"
    pod_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    client = one(objects, "Service", "zk-zookeeper")  # it has a metrics port too: the monitor must not select it
    assert not monitor["spec"]["selector"]["matchLabels"].items() <= client["metadata"]["labels"].items()
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "15s",
                                             "scrapeTimeout": "10s"}]
    assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/name"


def test_rules_follow_the_release_names():
    objects = render(release="kafka", set_values=["metrics.rules.enabled=true", "nameOverride=zk",
                                                  "fullnameOverride=kafka-zk"])
    exprs = [rule["expr"] for group in one(objects, "PrometheusRule")["spec"]["groups"] for rule in group["rules"]]
    assert not [e for e in exprs if 'job="zookeeper"' in e or "-zookeeper-" in e]
    assert sum('job="zk"' in e for e in exprs) == len(exprs) - 1  # all but the kubelet's disk alert
    assert sum('"(datadir|datalogdir)-kafka-zk-[0-9]+"' in e for e in exprs) == 1


def test_every_alert_links_its_runbook_under_the_base_url_the_values_give():
    def urls(*set_values):
        rules = one(render(set_values=["metrics.rules.enabled=true", *set_values]), "PrometheusRule")
        return {rule["alert"]: rule["annotations"]["runbook_url"]
                for group in rules["spec"]["groups"] for rule in group["rules"]}

    default = urls()
    assert default and all(url == f"docs/operations/runbooks.md#{alert.lower()}" for alert, url in default.items())
    base = "https://git.example.com/platform/kube-zookeeper/-/blob/main/docs/operations/runbooks.md"
    moved = urls(f"metrics.rules.runbookBaseUrl={base}")
    assert moved == {alert: f"{base}#{alert.lower()}" for alert in default}


def test_the_dashboard_carries_the_sidecar_label_and_valid_json():
    import json

    dashboard = one(render(set_values=["metrics.dashboard.enabled=true"]), "ConfigMap", "zk-zookeeper-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["zookeeper-dashboard.json"])["uid"] == "kube-zookeeper"


def test_named_clients_join_the_release_s_own_pods_on_the_client_port(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("networkPolicy:\n  enabled: true\n  metricsNamespace: observability\n  clients:\n"
                      "    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: kafka\n")
    policy = one(render(values=[values]), "NetworkPolicy", "zk-zookeeper")
    client, _, metrics = policy["spec"]["ingress"]
    assert client["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "zookeeper", "app.kubernetes.io/instance": "zk"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kafka"}}}]
    assert metrics["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "observability"}


def test_the_helm_test_pod_gets_a_no_ingress_policy_of_its_own():
    objects = render(set_values=["networkPolicy.enabled=true"])
    policy, pod = one(objects, "NetworkPolicy", "zk-zookeeper-test"), one(objects, "Pod", "zk-zookeeper-test")
    assert policy["metadata"]["annotations"]["helm.sh/hook"] == pod["metadata"]["annotations"]["helm.sh/hook"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    members = one(objects, "StatefulSet")["spec"]["template"]["metadata"]["labels"]
    assert not policy["spec"]["podSelector"]["matchLabels"].items() <= members.items()
    assert policy["spec"]["policyTypes"] == ["Ingress"] and "ingress" not in policy["spec"]


@pytest.mark.parametrize("name", ["prometheusrule.yaml", "zookeeper-dashboard.json"])
def test_the_chart_ships_the_component_s_rules_and_dashboard_unchanged(name):
    """The chart is self-contained (installable from chart/ alone), so it holds copies; they must not drift."""
    component, copy = REPO_ROOT / "components" / "monitoring" / name, CHART / "files" / name
    assert not copy.is_symlink()
    assert copy.read_bytes() == component.read_bytes(), f"{copy} differs from {component}: nox -s lint -- --fix"
