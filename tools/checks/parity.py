"""Parity: for each environment, the chart (chart-<env>) renders the same objects with the same specs as the overlay
(overlay-<env>), once what legitimately differs between Helm and Kustomize is normalised away:

- names: the chart's `<release>-zookeeper` prefix becomes the overlay's `zookeeper` (the two StatefulSets name the
  prefixes), and Kustomize's ConfigMap/Secret hash suffix is dropped, wherever such a name is referenced, and inside
  PrometheusRule expressions (the members' claim names, `datadir-<prefix>-N`);
- labels: helm.sh/chart is dropped; app.kubernetes.io/instance (release name vs `zookeeper`) and
  app.kubernetes.io/managed-by (Helm vs kustomize) are compared as present-or-absent, not by value;
- annotations: checksum/config (Helm rolls pods with it; Kustomize with the hash suffix) and Kustomize's own
  config.kubernetes.io/* build annotations;
- Secret values: the chart generates a random admin password where a laptop overlay ships a throwaway one, so a
  Secret's data and stringData are compared by key, not value;
- helm test hooks (`helm.sh/hook: test`) are not part of the deployed ensemble and are left out.

`python -m tools.checks.parity [ENV...]` renders both sides, prints every difference and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

from tools.base.errors import UserError, cli
from tools.base.profiles import ENVIRONMENTS, Profile, select
from tools.render import BUILD_DIR, render_all
from tools.render.manifests import load_file, plain

INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
DROPPED_LABELS = ("helm.sh/chart",)
DROPPED_ANNOTATIONS = ("checksum/config",)
DROPPED_ANNOTATION_PREFIXES = ("config.kubernetes.io/", "internal.config.kubernetes.io/")
# Kustomize's generated-name suffix: ten characters of a hash, hex with 0 1 3 a e replaced by g h k m t.
KUSTOMIZE_HASH_SUFFIX = re.compile(r"-[24-9bcdfghkmt]{10}$")
GENERATED_KINDS = ("ConfigMap", "Secret")


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()


@dataclass(frozen=True)
class Difference:
    """One field (or whole object) where the chart and the overlay of an environment disagree."""

    env: str
    obj: str  # Kind/normalised-name
    path: str  # dotted field path; "" when the whole object exists on one side only
    overlay: object
    chart: object

    def __str__(self) -> str:
        if not self.path:
            side = "overlay" if self.chart is ABSENT else "chart"
            return f"{self.env}: {self.obj}: only the {side} renders it"
        return f"{self.env}: {self.obj} {self.path}: overlay {_show(self.overlay)}, chart {_show(self.chart)}"


def _show(value: object) -> str:
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, str) and value and value.strip() == value and not _looks_like_other_type(value):
        return value
    return json.dumps(value, separators=(", ", ": "))


def _looks_like_other_type(text: str) -> bool:
    """A string that would read as a number, bool or null: shown quoted so "1" and 1 are told apart."""
    return text.lower() in ("true", "false", "null", "~") or re.fullmatch(r"[-+]?[0-9.eE+]+", text) is not None


# --- normalising -----------------------------------------------------------------------------------------------


def _is_helm_test(doc: dict) -> bool:
    hooks = ((doc.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
    return "test" in [h.strip() for h in str(hooks).split(",")]


def _statefulset_name(docs: list[dict]) -> str | None:
    names = [d["metadata"]["name"] for d in docs if d.get("kind") == "StatefulSet"]
    return names[0] if len(names) == 1 else None


def _renames(docs: list[dict], own_prefix: str | None, common_prefix: str | None) -> dict[str, str]:
    """Every object name of one side -> its normalised name."""
    renames = {}
    for doc in docs:
        name = (doc.get("metadata") or {}).get("name")
        if not isinstance(name, str):
            continue
        normal = name
        if doc.get("kind") in GENERATED_KINDS:
            normal = KUSTOMIZE_HASH_SUFFIX.sub("", normal)
        if own_prefix and common_prefix and (normal == own_prefix or normal.startswith(own_prefix + "-")):
            normal = common_prefix + normal[len(own_prefix):]
        renames[name] = normal
    return renames


def _normalise(node, renames: dict[str, str]):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("labels", "matchLabels", "selector") and isinstance(value, dict):
                value = _normalise_labels(value)
            elif key == "annotations" and isinstance(value, dict):
                value = _normalise_annotations(value)
                if not value:
                    continue
            out[key] = _normalise(value, renames)
        return out
    if isinstance(node, list):
        return [_normalise(item, renames) for item in node]
    if isinstance(node, str):
        return renames.get(node, node)
    return node


def _normalise_labels(labels: dict) -> dict:
    out = {k: v for k, v in labels.items() if k not in DROPPED_LABELS}
    for key in (INSTANCE_LABEL, MANAGED_BY_LABEL):
        if key in out:
            out[key] = "(normalised)"
    return out


def _normalise_annotations(annotations: dict) -> dict:
    return {k: v for k, v in annotations.items()
            if k not in DROPPED_ANNOTATIONS and not k.startswith(DROPPED_ANNOTATION_PREFIXES)}


def _rename_in_rule_exprs(doc: dict, own_prefix: str, common_prefix: str) -> None:
    """`-<own_prefix>-` becomes `-<common_prefix>-` in every rule's expr (claims such as datadir-zk-zookeeper-0)."""
    for group in (doc.get("spec") or {}).get("groups") or []:
        for rule in group.get("rules") or []:
            if isinstance(rule.get("expr"), str):
                rule["expr"] = rule["expr"].replace(f"-{own_prefix}-", f"-{common_prefix}-")


def normalised_objects(path: Path, common_prefix: str | None = None) -> tuple[dict[str, dict], str | None]:
    """The objects of a rendered file keyed by Kind/normalised-name, and the file's StatefulSet name (its prefix).

    With common_prefix, names starting with this file's StatefulSet name are renamed to start with common_prefix.
    """
    docs = [plain(m.doc) for m in load_file(path)]
    docs = [d for d in docs if not _is_helm_test(d)]
    own_prefix = _statefulset_name(docs)
    renames = _renames(docs, own_prefix, common_prefix)
    objects: dict[str, dict] = {}
    for doc in docs:
        doc = _normalise(doc, renames)
        if doc.get("kind") == "Secret":
            for field in ("data", "stringData"):
                if isinstance(doc.get(field), dict):
                    doc[field] = dict.fromkeys(doc[field], "(secret value)")
        if doc.get("kind") == "PrometheusRule" and own_prefix and common_prefix:
            _rename_in_rule_exprs(doc, own_prefix, common_prefix)
        ref = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name', '(unnamed)')}"
        if ref in objects:
            raise UserError(f"{path}: {ref} appears twice (after normalising names)")
        objects[ref] = doc
    return objects, own_prefix


# --- comparing -------------------------------------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _item_name(item) -> str | None:
    """A list item's name: `name` (containers, env, ports, volumes, mounts) or `metadata.name` (claim templates)."""
    if not isinstance(item, dict):
        return None
    metadata = item.get("metadata")
    name = item.get("name", metadata.get("name") if isinstance(metadata, dict) else None)
    return name if isinstance(name, str) else None


def _by_name(items: list) -> dict[str, object] | None:
    """The list as {name: item} when every item has a distinct name, else None."""
    names = [_item_name(item) for item in items]
    if not items or None in names or len(set(names)) != len(names):
        return None
    return dict(zip(names, items, strict=True))


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def diff(overlay, chart, path: str = "") -> list[tuple[str, object, object]]:
    """(path, overlay value, chart value) for every leaf where the two differ; lists matched by item name."""
    if isinstance(overlay, dict) and isinstance(chart, dict):
        out = []
        for key in sorted(set(overlay) | set(chart)):
            out += diff(overlay.get(key, ABSENT), chart.get(key, ABSENT), _join(path, key))
        return out
    if isinstance(overlay, list) and isinstance(chart, list):
        overlay_named, chart_named = _by_name(overlay), _by_name(chart)
        if overlay_named is not None and chart_named is not None:
            out = []
            for name in list(overlay_named) + [n for n in chart_named if n not in overlay_named]:
                out += diff(overlay_named.get(name, ABSENT), chart_named.get(name, ABSENT), f"{path}[{name}]")
            return out
        if len(overlay) == len(chart) and any(isinstance(item, dict | list) for item in overlay + chart):
            out = []
            for index, (a, b) in enumerate(zip(overlay, chart, strict=True)):
                out += diff(a, b, f"{path}[{index}]")
            return out
    return [] if _same(overlay, chart) else [(path, overlay, chart)]


def compare(env: str, overlay_file: Path, chart_file: Path) -> list[Difference]:
    """The differences between one environment's rendered overlay and rendered chart."""
    overlay_objects, overlay_prefix = normalised_objects(overlay_file)
    chart_objects, _ = normalised_objects(chart_file, common_prefix=overlay_prefix)
    differences = []
    for ref in list(overlay_objects) + [r for r in chart_objects if r not in overlay_objects]:
        a, b = overlay_objects.get(ref, ABSENT), chart_objects.get(ref, ABSENT)
        if a is ABSENT or b is ABSENT:
            differences.append(Difference(env, ref, "", a, b))
            continue
        differences += [Difference(env, ref, path, x, y) for path, x, y in diff(a, b)]
    return differences


def check(rendered: dict[Profile, Path]) -> list[Difference]:
    """Differences for every environment rendered both as `overlay-<env>` and `chart-<env>`; [] when all match."""
    by_name = {profile.name: path for profile, path in rendered.items()}
    differences = []
    for env in sorted({p.env for p in rendered}, key=lambda e: (e not in ENVIRONMENTS, e)):
        overlay, chart = by_name.get(f"overlay-{env}"), by_name.get(f"chart-{env}")
        if overlay is not None and chart is not None:
            differences += compare(env, overlay, chart)
    return differences


def environments_compared(rendered: dict[Profile, Path]) -> list[str]:
    names = {profile.name for profile in rendered}
    return [env for env in ENVIRONMENTS if f"overlay-{env}" in names and f"chart-{env}" in names]


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parity", description=__doc__.split("\n\n")[0])
    parser.add_argument("envs", nargs="*", metavar="ENV",
                        help=f"environments to compare (default: all of {', '.join(ENVIRONMENTS)})")
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)
    unknown = [env for env in args.envs if env not in ENVIRONMENTS]
    if unknown:
        raise UserError(f"unknown environment {', '.join(unknown)}; known: {', '.join(ENVIRONMENTS)}")
    envs = args.envs or list(ENVIRONMENTS)
    profiles = select([f"{source}-{env}" for env in envs for source in ("overlay", "chart")])
    rendered = render_all(profiles, args.build_dir)
    differences = check(rendered)
    for difference in differences:
        print(difference)
    if differences:
        print(f"parity: {len(differences)} difference(s) between the chart and the overlays")
        return 1
    print(f"parity: chart and overlays match for {', '.join(environments_compared(rendered))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
