"""values.schema.json refuses bad values at `helm template` with the schema's message (what `helm install` runs too)."""

from pathlib import Path

import pytest
import yaml
from chart_helpers import CHART

from tools.base.run import CommandError
from tools.base.versions import image_version, zookeeper_version
from tools.checks import policy
from tools.cli.helm import Helm

SCHEMA_FAILURE = "values don't meet the specifications of the schema"


def template_error(tmp_path: Path, values_yaml: str) -> str:
    values = tmp_path / "bad-values.yaml"
    values.write_text(values_yaml)
    with pytest.raises(CommandError) as failure:
        Helm().template(CHART, values=[values])
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


@pytest.mark.parametrize("replicas", [0, 2, 4, 6])
def test_an_even_or_zero_replica_count_is_refused(tmp_path, replicas):
    stderr = template_error(tmp_path, f"replicas: {replicas}\n")
    assert SCHEMA_FAILURE in stderr
    assert "at '/replicas': value must be one of 1, 3, 5, 7, 9" in stderr


def test_a_misspelt_nested_key_is_refused(tmp_path):
    stderr = template_error(tmp_path, "persistence:\n  sise: 2Gi\n")
    assert "at '/persistence': additional properties 'sise' not allowed" in stderr


@pytest.mark.parametrize(("values_yaml", "message"), [
    ("ports:\n  client: 70000\n", "at '/ports/client': maximum: got 70,000, want 65,535"),
    ("zookeeper:\n  fourLetterWords: [ruok, mntr]\n", "at '/zookeeper/fourLetterWords'"),
    ("antiAffinity: always\n", "at '/antiAffinity'"),
    ("heap: 512\n", "at '/heap': got number, want string"),
    ("networkPolicy:\n  clients: [{}]\n", "at '/networkPolicy/clients/0': minProperties"),
    ("networkPolicy:\n  clients: [{podSelectr: {}}]\n", "additional properties 'podSelectr' not allowed"),
    ("networkPolicy:\n  metricsNamespace: Monitoring\n", "at '/networkPolicy/metricsNamespace'"),
    ("metrics:\n  serviceMonitor:\n    interval: 30\n", "at '/metrics/serviceMonitor/interval': got number"),
    ("metrics:\n  rules:\n    enable: true\n", "additional properties 'enable' not allowed"),
])
def test_out_of_range_and_unknown_choices_are_refused(tmp_path, values_yaml, message):
    stderr = template_error(tmp_path, values_yaml)
    assert SCHEMA_FAILURE in stderr and message in stderr


@pytest.mark.parametrize(("values_yaml", "message"), [
    ("zookeeper:\n  minSessionTimeout: 50000\n",
     "zookeeper.minSessionTimeout (50000) must not exceed zookeeper.maxSessionTimeout (40000)"),
    ("ports:\n  metrics: 2181\n", "ports: client, server, leaderElection and metrics must differ"),
    ("image:\n  tag: latest\n", "image.tag: latest is not a pinned tag (ZK-IMG-001): members of one ensemble could "
     f"run different builds; set a version tag ({zookeeper_version(image_version())}-<image build>), or image.digest"),
])
def test_what_the_schema_cannot_express_fails_in_the_template(tmp_path, values_yaml, message):
    assert message in template_error(tmp_path, values_yaml)


def test_openshift_values_remove_the_pinned_uid_without_breaking_the_schema():
    """null in a values file deletes the default key; the schema sees the result, not the null."""
    text = Helm().template(CHART, values=[CHART / "ci" / "openshift-values.yaml"])
    assert "runAsUser" not in text and "fsGroup" not in text and "runAsGroup" not in text


# -- every guard that protects a user, from the refusing side: a value breaking it fails `helm template` ---------
# The levels come from values.yaml (what users edit), not from the schema, so a level whose schema loses its
# `additionalProperties: false` fails here.
OPEN_MAPPINGS = {"nodeSelector": "node labels are the user's own keys (their values must still be strings)",
                 **{f"metrics.{part}.labels": "labels the user's Prometheus or Grafana selects on (string values)"
                    for part in ("serviceMonitor", "rules", "dashboard")}}


def mapping_levels(node: dict, prefix: tuple = ()) -> list[tuple]:
    levels = [prefix]
    for key, value in node.items():
        if isinstance(value, dict) and ".".join((*prefix, key)) not in OPEN_MAPPINGS:
            levels += mapping_levels(value, (*prefix, key))
    return levels


LEVELS = mapping_levels(yaml.safe_load((CHART / "values.yaml").read_text()))


def nested(path: tuple, leaf: dict) -> str:
    node = leaf
    for key in reversed(path):
        node = {key: node}
    return yaml.safe_dump(node)


def test_the_levels_cover_every_mapping_users_edit():
    assert {".".join(level) for level in LEVELS} >= {"", "image", "resources", "resources.requests",
                                                    "resources.limits", "securityContext", "persistence",
                                                    "persistence.dataLog", "ports", "zookeeper"}


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: ".".join(level) or "top")
def test_an_unknown_key_is_refused_at_every_level(tmp_path, level):
    stderr = template_error(tmp_path, nested(level, {"typoKey": 1}))
    assert SCHEMA_FAILURE in stderr
    pointer = "".join(f"/{key}" for key in level)
    assert f"at '{pointer}': additional properties 'typoKey' not allowed" in stderr


@pytest.mark.parametrize(("values", "pointer"), [
    ({"securityContext": {"runAsUser": 0}}, "/securityContext/runAsUser"),  # uid >= 1: never root
    ({"replicas": 4}, "/replicas"),  # odd: 4 members tolerate one failure, as 3 do
    ({"replicas": 2}, "/replicas"),
    ({"image": {"tag": ""}}, "/image/tag"),  # a pinned tag
    ({"image": {"digest": "sha256:abc"}}, "/image/digest"),
    ({"persistence": {"size": "5GB"}}, "/persistence/size"),  # sizes in Mi, Gi, Ti
    ({"persistence": {"dataLog": {"enabled": True, "size": "10G"}}}, "/persistence/dataLog/size"),
    ({"persistence": {"storageClassName": "Fast_SSD"}}, "/persistence/storageClassName"),
    ({"resources": {"limits": {"memory": "1GB"}}}, "/resources/limits/memory"),  # Kubernetes quantities
    ({"resources": {"requests": {"cpu": "lots"}}}, "/resources/requests/cpu"),
    ({"heap": "512MB"}, "/heap"),  # a JVM size: digits and one of k, m, g
    ({"heap": "0M"}, "/heap"),
    ({"ports": {"client": 0}}, "/ports/client"),
    ({"nodeSelector": {"disk": 1}}, "/nodeSelector/disk"),
    ({"zookeeper": {"snapRetainCount": 2}}, "/zookeeper/snapRetainCount"),  # ZooKeeper refuses fewer than 3
    ({"zookeeper": {"fourLetterWords": ["ruok", "mntr"]}}, "/zookeeper/fourLetterWords"),  # readiness needs srvr
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_value_breaking_a_guard_is_refused(tmp_path, values, pointer):
    stderr = template_error(tmp_path, yaml.safe_dump(values))
    assert SCHEMA_FAILURE in stderr and f"at '{pointer}'" in stderr, stderr


@pytest.mark.parametrize("values", [{"replicas": 5}, {"replicas": 1}, {"securityContext": {"runAsUser": 1}},
                                    {"heap": "768m"},  # lowercase unit; with 256Mi headroom it fills the 1Gi limit
                                    {"persistence": {"size": "512Mi"}}])
def test_a_value_inside_the_guards_renders(tmp_path, values):
    path = tmp_path / "good-values.yaml"
    path.write_text(yaml.safe_dump(values))
    assert "kind: StatefulSet" in Helm().template(CHART, values=[path])


@pytest.mark.parametrize(("env", "fits", "too_big", "limit"), [
    ("kind", "256M", "400M", None),                # 512Mi limit: 384M fits
    ("production", "1G", "1600M", None),           # 2Gi limit: 1536M fits
    ("default", "512M", "1200M", "1.5Gi"),          # a fractional limit: 1.50Gi, headroom 384Mi
])
def test_a_heap_that_does_not_fit_the_limit_fails_with_the_policy_message(tmp_path, env, fits, too_big, limit):
    """ZK-RES-004 in the chart: a user who never runs validate gets the same message from helm."""
    values = [] if env == "default" else [CHART / "ci" / f"{env}-values.yaml"]
    limit_set = [f"resources.limits.memory={limit}", f"resources.requests.memory={limit}"] if limit else []
    rendered = Helm().template(CHART, values=values, set_values=[*limit_set, f"heap={fits}"])
    assert f'ZOO_HEAP: "{fits}"' in rendered
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(rendered.replace(f'ZOO_HEAP: "{fits}"', f'ZOO_HEAP: "{too_big}"'))
    (finding,) = [f for f in policy.check_files([manifest], env) if f.rule == "ZK-RES-004"]

    with pytest.raises(CommandError) as failure:
        Helm().template(CHART, values=values, set_values=[*limit_set, f"heap={too_big}"])
    assert f"ZK-RES-004: {finding.message}" in failure.value.result.stderr
