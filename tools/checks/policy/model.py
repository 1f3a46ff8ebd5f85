"""What the rules work on: findings, field paths, pod specs, selectors, quantities, the settings start.sh reads."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from tools.render.manifests import Manifest

ERROR, WARNING = "error", "warning"
# Profile types: the rules a profile gets depend on its environment; "default" gets the common rules only.
PROFILE_TYPES = ("production", "openshift", "minikube", "kind", "default")
LAPTOP_TYPES = ("minikube", "kind")

WORKLOAD_POD_SPEC = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
NAMED_LISTS = {"containers", "initContainers", "ephemeralContainers", "env", "volumes", "volumeMounts", "ports",
               "volumeClaimTemplates"}

Path = tuple  # field path: str keys and int list positions, e.g. ("spec", "template", "spec", "containers", 0)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    profile: str  # profile name (overlay-kind) or the checked file
    object: str  # Kind/name
    path: str  # spec.template.spec.containers[zookeeper].securityContext.allowPrivilegeEscalation
    file: str  # the rendered file
    line: int  # line in the rendered file (the deepest part of the path that exists)
    source: str | None  # file[:line] in the repo the field came from, when traceable
    message: str

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict:
        return {**asdict(self), "location": self.location}


@dataclass(frozen=True)
class Hit:
    """A rule's raw result: the object and field it is about; the runner adds the rule's id and the location."""

    manifest: Manifest
    path: Path
    message: str
    severity: str | None = None  # overrides the rule's severity


def get(node, path: Path, default=None):
    for segment in path:
        if isinstance(node, dict) and isinstance(segment, str):
            node = node.get(segment)
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
        else:
            return default
        if node is None:
            return default
    return node


def get_map(node, path: Path = ()) -> dict:
    """The mapping at path, or {} when it is missing or not a mapping."""
    value = get(node, path)
    return value if isinstance(value, dict) else {}


def get_list(node, path: Path = ()) -> list:
    """The list at path, or [] when it is missing or not a list."""
    value = get(node, path)
    return value if isinstance(value, list) else []


def format_path(doc, path: Path) -> str:
    """spec.template.spec.containers[zookeeper].env[ZOO_HEAP]: list items shown by name when they have one."""
    text, node = "", doc
    for segment in path:
        if isinstance(segment, int):
            item = node[segment] if isinstance(node, list) and 0 <= segment < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            if name is None and isinstance(item, dict):
                name = get(item, ("metadata", "name"))
            text += f"[{name}]" if name is not None else f"[{segment}]"
            node = item
        else:
            key = str(segment)
            text += f'["{key}"]' if re.search(r"[./\s]", key) else (f".{key}" if text else key)
            node = node.get(segment) if isinstance(node, dict) else None
    return text


# --- pods and containers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Container:
    manifest: Manifest
    path: Path  # path of the container mapping
    spec: dict
    pod_path: Path

    @property
    def name(self) -> str:
        return str(self.spec.get("name"))

    def sc(self, key: str):
        return get(self.spec, ("securityContext", key))

    def pod_sc(self, key: str):
        return get(self.manifest.doc, (*self.pod_path, "securityContext", key))


def pod_spec_path(manifest: Manifest) -> Path | None:
    return WORKLOAD_POD_SPEC.get(manifest.kind)


def containers(manifest: Manifest, lists=("initContainers", "containers")) -> Iterator[Container]:
    pod_path = pod_spec_path(manifest)
    if pod_path is None:
        return
    for list_name in lists:
        for index, spec in enumerate(get_list(manifest.doc, (*pod_path, list_name))):
            if isinstance(spec, dict):
                yield Container(manifest, (*pod_path, list_name, index), spec, pod_path)


def pod_labels(manifest: Manifest) -> dict:
    if manifest.kind == "Pod":
        return get_map(manifest.doc, ("metadata", "labels"))
    path = pod_spec_path(manifest)
    return get_map(manifest.doc, (*path[:-1], "metadata", "labels")) if path else {}


def command_text(container: Container) -> str:
    """command + args as one string (a `sh -c "start.sh --servers=3 ..."` is searched like plain arguments)."""
    return " ".join(str(part) for key in ("command", "args") for part in get_list(container.spec, (key,)))


def command_item(container: Container, pattern: str) -> Path:
    """The path of the first command/args item matching pattern (the container's command if none does)."""
    for key in ("command", "args"):
        for index, part in enumerate(get_list(container.spec, (key,))):
            if re.search(pattern, str(part)):
                return (*container.path, key, index)
    return (*container.path, "command")


# --- selectors -----------------------------------------------------------------------------------------------


def selector_matches(selector, labels: dict) -> bool:
    """A LabelSelector against a pod's labels. A missing selector matches nothing, an empty one everything."""
    if not isinstance(selector, dict):
        return False
    for key, value in get_map(selector, ("matchLabels",)).items():
        if str(labels.get(key)) != str(value) or key not in labels:
            return False
    for expr in get_list(selector, ("matchExpressions",)):
        expr = expr if isinstance(expr, dict) else {}
        key, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in get_list(expr, ("values",))]
        present = key in labels
        if op == "In" and not (present and str(labels[key]) in values):
            return False
        if op == "NotIn" and present and str(labels[key]) in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def selector_keys(selector) -> set[str]:
    """Keys a selector pins to values (matchLabels, or matchExpressions with In)."""
    if not isinstance(selector, dict):
        return set()
    keys = set(get_map(selector, ("matchLabels",)))
    keys |= {e.get("key") for e in get_list(selector, ("matchExpressions",))
             if isinstance(e, dict) and e.get("operator") == "In"}
    return keys


def map_selector_matches(selector, labels: dict) -> bool:
    """A Service's plain selector map: non-empty and every pair present in labels."""
    if not isinstance(selector, dict) or not selector:
        return False
    return all(key in labels and str(labels[key]) == str(value) for key, value in selector.items())


# --- quantities ----------------------------------------------------------------------------------------------

_K8S_SUFFIX = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18, "m": 1e-3,
               "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_JVM_SUFFIX = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
MI = 2**20


def k8s_bytes(quantity) -> float | None:
    match = re.fullmatch(r"\s*([0-9.]+(?:[eE][-+]?[0-9]+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?\s*", str(quantity))
    if not match:
        return None
    return float(match.group(1)) * _K8S_SUFFIX[match.group(2) or ""]


def jvm_bytes(size: str) -> float | None:
    match = re.fullmatch(r"([0-9]+)([kKmMgGtT]?)[bB]?", size.strip())
    return float(match.group(1)) * _JVM_SUFFIX[match.group(2).lower()] if match else None


def human(size: float) -> str:
    for unit, factor in (("Gi", 2**30), ("Mi", 2**20)):
        if size >= factor:
            value = size / factor
            return f"{value:g}{unit}" if value == int(value) else f"{value:.2f}{unit}"
    return f"{size:g}B"


def scaled(value, replicas: int) -> int | None:
    """An int-or-percent PDB field as a pod count (percentages round up, as the disruption controller does)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = re.fullmatch(r"\s*([0-9]+)%\s*", str(value))
    if match:
        return math.ceil(replicas * int(match.group(1)) / 100)
    return int(value) if str(value).strip().isdigit() else None
