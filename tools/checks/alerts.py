"""The alert rules and Grafana dashboard of rendered manifests, the metric names they read, and promtool over them.

    rule_file(manifests, dest)          # the PrometheusRules' groups as one promtool rule file
    check(manifests, work_dir)          # `promtool check rules` on it: problems as text, [] when clean
    unit_test(manifests, tests, work_dir)  # `promtool test rules` of a test file against these rules
    metric_names(expr)                  # the metric names one PromQL expression reads
    rule_metric_names(manifests)        # alert name -> metric names
    dashboard_metric_names(manifests)   # metric names the dashboards' panels and variables read
    exposition_names(page)              # metric names on a Prometheus /metrics page
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

from tools.base.errors import UserError
from tools.cli.promtool import Promtool
from tools.render.manifests import Manifest, plain

# Names the rules read that come from elsewhere than the ZooKeeper image: what Prometheus and the kubelet export.
FROM_ELSEWHERE = {
    "up": "Prometheus itself, one per scrape target",
    "kubelet_volume_stats_available_bytes": "the kubelet, per PersistentVolumeClaim",
    "kubelet_volume_stats_capacity_bytes": "the kubelet, per PersistentVolumeClaim",
}
DASHBOARD_LABEL = "grafana_dashboard"

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
             "inf", "nan", "start", "end"}
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*[A-Za-z_]\w*\s*\)\s*$", re.DOTALL)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (not functions, keywords, label names or numbers)."""
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    return {name for name in _IDENTIFIER.findall(text) if name.lower() not in _KEYWORDS}


def prometheus_rules(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m.kind == "PrometheusRule"]


def groups(manifests: list[Manifest]) -> list[dict]:
    """Every rule group of every PrometheusRule, as plain data."""
    found = []
    for manifest in prometheus_rules(manifests):
        spec_groups = plain(manifest.doc).get("spec", {}).get("groups")
        if not isinstance(spec_groups, list):
            raise UserError(f"{manifest.file}:{manifest.line}: {manifest.ref}: spec.groups must be a list")
        found += spec_groups
    return found


def rule_file(manifests: list[Manifest], dest: Path) -> Path:
    """The PrometheusRules' groups written as one promtool rule file at dest (JSON, which YAML readers take)."""
    dest.write_text(json.dumps({"groups": groups(manifests)}, indent=2))
    return dest


def check(manifests: list[Manifest], work_dir: Path) -> list[str]:
    """`promtool check rules` over the manifests' PrometheusRules: its complaints, [] when they pass."""
    if not prometheus_rules(manifests):
        return []
    result = Promtool.pinned().check_rules([rule_file(manifests, work_dir / "rules.yaml")])
    if result.code == 0:
        return []
    origin = ", ".join(sorted({f"{m.file}:{m.line} {m.ref}" for m in prometheus_rules(manifests)}))
    return [f"{origin}: promtool check rules: {(result.stdout + result.stderr).strip()}"]


def unit_test(manifests: list[Manifest], tests: Path, work_dir: Path) -> tuple[bool, str]:
    """Run a promtool unit-test file against these rules, written as the file's single rule file."""
    spec = yaml.safe_load(tests.read_text())
    names = spec.get("rule_files") or []
    if len(names) != 1:
        raise UserError(f"{tests}: rule_files must name exactly one file (the rendered rules), got {names}")
    rule_file(manifests, work_dir / names[0])
    copy = work_dir / tests.name
    shutil.copyfile(tests, copy)
    result = Promtool.pinned().test_rules([copy])
    return result.code == 0, (result.stdout + result.stderr).strip()


def rule_metric_names(manifests: list[Manifest]) -> dict[str, set[str]]:
    """Alert (or recording rule) name -> the metric names its expression reads."""
    return {str(rule.get("alert") or rule.get("record")): metric_names(str(rule.get("expr", "")))
            for group in groups(manifests) for rule in group.get("rules") or []}


def dashboards(manifests: list[Manifest]) -> dict[str, dict]:
    """`ConfigMap/name key` -> the parsed dashboard, for ConfigMaps carrying the Grafana sidecar's label."""
    found = {}
    for manifest in manifests:
        labels = plain(manifest.doc).get("metadata", {}).get("labels") or {}
        if manifest.kind != "ConfigMap" or DASHBOARD_LABEL not in labels:
            continue
        for key, text in (plain(manifest.doc).get("data") or {}).items():
            try:
                found[f"{manifest.ref} {key}"] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise UserError(f"{manifest.file}:{manifest.line}: {manifest.ref} data.{key}: not JSON: {exc}") \
                    from None
    return found


def dashboard_queries(dashboard: dict) -> list[str]:
    """Every PromQL expression of a dashboard: panel targets and query variables (label_values' selector)."""
    queries = [str(target.get("expr")) for panel in dashboard.get("panels") or []
               for target in panel.get("targets") or [] if target.get("expr")]
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if variable.get("type") == "query" and isinstance(query, str):
            match = _LABEL_VALUES.match(query)
            queries.append(match.group(1) if match else query)
    return queries


def dashboard_metric_names(manifests: list[Manifest]) -> set[str]:
    return {name for dashboard in dashboards(manifests).values() for query in dashboard_queries(dashboard)
            for name in metric_names(query)}


def exposition_names(page: str) -> set[str]:
    """Metric names in Prometheus text exposition format (summary parts such as x_sum, x_count included)."""
    sample = re.compile(r"^([A-Za-z_:][\w:]*)(?:\{.*\})?\s+([-+]?[0-9.eE+]+|[-+]?Inf|NaN)(?:\s+-?[0-9]+)?\s*$")
    return {match.group(1) for line in page.splitlines() if (match := sample.match(line))}
