"""The alert rules: promtool checks them and runs their unit tests (firing and quiet series for every alert); every
alert has a summary, a description and a runbook_url to its section of docs/operations/runbooks.md; the metric-name
reader understands PromQL."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from tests.markdown import anchors, slug, without_fences
from tests.monitoring.conftest import RULES_TEST
from tools import REPO_ROOT
from tools.checks import alerts

ALERTS = ["ZooKeeperQuorumLost", "ZooKeeperMemberNotServing", "ZooKeeperNoLeader", "ZooKeeperMoreThanOneLeader",
          "ZooKeeperSyncedFollowersLow",
          "ZooKeeperOutstandingRequestsHigh", "ZooKeeperRequestLatencyHigh", "ZooKeeperFsyncSlow",
          "ZooKeeperFileDescriptorsNearLimit", "ZooKeeperDataDiskNearlyFull", "ZooKeeperJvmHeapNearMax",
          "ZooKeeperMemberRestarting"]


def all_rules(manifests) -> list[dict]:
    return [rule for group in alerts.groups(manifests) for rule in group["rules"]]


def with_rule_changed(manifests, alert: str, old: str, new: str):
    """A copy of the manifests whose `alert` expression has `old` replaced by `new` (which must be there)."""
    changed = copy.deepcopy(manifests)
    for manifest in alerts.prometheus_rules(changed):
        for group in manifest.doc["spec"]["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == alert:
                    assert old in rule["expr"]
                    rule["expr"] = rule["expr"].replace(old, new)
    return changed


def test_both_paths_carry_the_issue_s_alerts(production):
    for manifests in production.values():
        assert [rule["alert"] for rule in all_rules(manifests)] == ALERTS


@pytest.mark.parametrize("profile", ["overlay-production", "chart-production"])
def test_promtool_check_rules_passes(promtool_binary, production, tmp_path, profile):
    assert alerts.check(production[profile], tmp_path) == []


def test_promtool_check_rules_reports_a_broken_expression(promtool_binary, production, tmp_path):
    broken = with_rule_changed(production["overlay-production"], "ZooKeeperFsyncSlow", "rate(", "rate((")
    problems = alerts.check(broken, tmp_path)
    assert len(problems) == 1 and "PrometheusRule/zookeeper" in problems[0] and "parse error" in problems[0]


def test_promtool_unit_tests_pass(promtool_binary, production, tmp_path):
    passed, output = alerts.unit_test(production["overlay-production"], RULES_TEST, tmp_path)
    assert passed, output
    assert "SUCCESS" in output


@pytest.mark.parametrize(("alert", "old", "new"), [
    ("ZooKeeperOutstandingRequestsHigh", "> 10", "> 100"),
    ("ZooKeeperQuorumLost", "/ 2", "/ 3"),
    ("ZooKeeperMemberNotServing", "quorum_size", "leader_uptime"),
    ("ZooKeeperDataDiskNearlyFull", "< 0.15", "< 0.05"),
])
def test_promtool_unit_tests_catch_a_changed_rule(promtool_binary, production, tmp_path, alert, old, new):
    changed = with_rule_changed(production["overlay-production"], alert, old, new)
    passed, output = alerts.unit_test(changed, RULES_TEST, tmp_path)
    assert not passed
    assert f"alertname: {alert}" in output


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    tests = yaml.safe_load(RULES_TEST.read_text())["tests"]
    evaluations = [check for test in tests for check in test["alert_rule_test"]]
    for alert in ALERTS:
        mine = [check for check in evaluations if check["alertname"] == alert]
        assert any(check["exp_alerts"] for check in mine), f"{alert}: no evaluation where it fires"
        assert any(not check["exp_alerts"] for check in mine), f"{alert}: no evaluation where it stays quiet"


RUNBOOKS = REPO_ROOT / "docs" / "operations" / "runbooks.md"


def runbook_sections() -> dict[str, str]:
    """anchor -> the text of that `## Alert` section of the runbooks page."""
    text = RUNBOOKS.read_text()
    parts = re.split(r"^## +(.+)$", without_fences(text), flags=re.MULTILINE)
    return {slug(heading): body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_every_alert_has_a_summary_a_description_a_severity_and_a_runbook(production):
    sections = runbook_sections()
    assert list(sections) == [alert.lower() for alert in ALERTS], "one runbook section per alert, in the rules' order"
    for rule in all_rules(production["overlay-production"]):
        annotations = rule["annotations"]
        assert annotations["summary"].strip() and annotations["description"].strip()
        assert "README" not in annotations["description"], f"{rule['alert']}: link the runbook (runbook_url)"
        assert rule["labels"]["severity"] in ("critical", "warning")
        page, _, anchor = annotations["runbook_url"].partition("#")
        assert (page, anchor) == ("docs/operations/runbooks.md", rule["alert"].lower())
        assert (REPO_ROOT / page).is_file() and anchor in anchors(RUNBOOKS.read_text())
        assert len(sections[anchor].split()) > 40, f"{rule['alert']}: the runbook says too little"


def test_the_chart_puts_its_own_names_into_the_rules(production):
    """Release zk: the claims are datadir-zk-zookeeper-N; the job stays the app name."""
    overlay, chart = (all_rules(production[name]) for name in ("overlay-production", "chart-production"))
    disk = {rule["alert"]: rule["expr"] for rule in chart}["ZooKeeperDataDiskNearlyFull"]
    assert '"(datadir|datalogdir)-zk-zookeeper-[0-9]+"' in disk
    assert [rule["expr"].replace("-zk-zookeeper-", "-zookeeper-") for rule in chart] == \
        [rule["expr"] for rule in overlay]


@pytest.mark.parametrize(("expr", "names"), [
    ('up{job="zookeeper"} == 0', {"up"}),
    ("count by (namespace, service) (up) / 2 >= (count(quorum_size) or vector(0))", {"up", "quorum_size"}),
    ("rate(fsynctime_sum[5m]) / rate(fsynctime_count[5m]) > 1e3", {"fsynctime_sum", "fsynctime_count"}),
    ('sum without (instance) (a:recorded:rate5m{x="by (y)"}) offset 1h', {"a:recorded:rate5m"}),
    ("x * on (pod) group_left (node) kube_pod_info unless ignoring (le) histogram_quantile(0.9, y_bucket)",
     {"x", "kube_pod_info", "y_bucket"}),
    ('label_replace(zz, "dst", "$1", "src", "(.*)") > bool 0', {"zz"}),
])
def test_metric_names_of_an_expression(expr, names):
    assert alerts.metric_names(expr) == names


def test_exposition_names_read_samples_not_comments_or_headers():
    page = ("HTTP/1.1 200 OK\nDate: Thu, 26 Nov 2026\n\n# HELP a_total things\n# TYPE a_total counter\n"
            'a_total 3.0\nb{area="heap",} 1.6E7\nc_sum 0.0\nc{quantile="0.5",} NaN\nd -Inf\n')
    assert alerts.exposition_names(page) == {"a_total", "b", "c_sum", "c", "d"}
