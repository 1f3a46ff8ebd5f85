"""chart/ci/<env>-values.yaml hold only what the environment changes: no key restates chart/values.yaml's default."""

from __future__ import annotations

from pathlib import Path

import pytest
from chart_helpers import CHART, CI_VALUES
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

DEFAULTS = CHART / "values.yaml"
ABSENT = object()


def _load(path: Path) -> CommentedMap:
    return YAML(typ="rt").load(path.read_text(encoding="utf-8"))


def restated_defaults(values: Path, defaults: Path = DEFAULTS) -> list[str]:
    """`file:line: key: value is the default` for every key of values (a leaf, or a whole mapping) that holds
    chart/values.yaml's value for it. Dropping such a key renders the same chart."""
    found = []

    def walk(node: CommentedMap, default: object, prefix: str) -> None:
        for key, value in node.items():
            default_value = default.get(key, ABSENT) if isinstance(default, dict) else ABSENT
            if value == default_value and isinstance(value, bool) == isinstance(default_value, bool):
                line = node.lc.key(key)[0] + 1
                found.append(f"{values}:{line}: {prefix}{key}: {value!r} is the default of {defaults.name}")
            elif isinstance(value, dict):
                walk(value, default_value, f"{prefix}{key}.")

    walk(_load(values), _load(defaults), "")
    return found


@pytest.mark.parametrize("env", CI_VALUES)
def test_a_ci_values_file_sets_only_what_differs_from_the_defaults(env):
    assert restated_defaults(CI_VALUES[env]) == []


@pytest.mark.parametrize("env", CI_VALUES)
def test_a_ci_values_file_starts_with_one_comment_line_naming_its_environment(env):
    lines = CI_VALUES[env].read_text().splitlines()
    assert lines[0].startswith("# ") and env in lines[0].lower() and f"(overlays/{env})" in lines[0]
    assert not lines[1].startswith("#")


@pytest.mark.parametrize(("restated", "reported"), [
    ("replicas: 3\n", "replicas: 3 is the default"),
    ("image:\n  pullPolicy: IfNotPresent\n", "image.pullPolicy: 'IfNotPresent' is the default"),
    ("metrics:\n  rules:\n    enabled: false\n", "metrics.rules.enabled: False is the default"),
    ("networkPolicy:\n  clients: []\n", "networkPolicy.clients: [] is the default"),
])
def test_a_restated_default_is_reported_with_its_file_line_and_key(tmp_path, restated, reported):
    values = tmp_path / "kind-values.yaml"
    values.write_text("# kind (overlays/kind)\nheap: 256M\n" + restated)
    line = 2 + restated.count("\n")
    assert restated_defaults(values) == [f"{values}:{line}: {reported} of values.yaml"]


def test_a_different_value_a_null_or_a_key_the_defaults_lack_is_not_a_restated_default(tmp_path):
    values = tmp_path / "openshift-values.yaml"
    values.write_text("replicas: 5\nsecurityContext:\n  runAsUser: null\nzoneSpread: 0\nnodeSelector:\n  zone: a\n")
    assert restated_defaults(values) == []
