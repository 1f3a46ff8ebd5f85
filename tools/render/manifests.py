"""Load rendered multi-document Kubernetes YAML, keeping line numbers (ruamel.yaml round-trip).

Bad input is a UserError naming the file, the document and the line: a YAML syntax error, an empty file, a
document that is not a mapping, a missing apiVersion or kind, or a kind that no built-in API group serves.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from tools.base.errors import UserError

# Built-in kinds by API group ("" is the core group). Kinds in other groups (CRDs) are accepted as custom resources.
BUILTIN_KINDS: dict[str, set[str]] = {
    "": {"Binding", "ConfigMap", "Endpoints", "Event", "LimitRange", "Namespace", "Node", "PersistentVolume",
         "PersistentVolumeClaim", "Pod", "PodTemplate", "ReplicationController", "ResourceQuota", "Secret",
         "Service", "ServiceAccount", "List"},
    "apps": {"ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"},
    "batch": {"CronJob", "Job"},
    "policy": {"PodDisruptionBudget", "PodSecurityPolicy", "Eviction"},
    "autoscaling": {"HorizontalPodAutoscaler"},
    "networking.k8s.io": {"Ingress", "IngressClass", "NetworkPolicy", "IPAddress", "ServiceCIDR"},
    "rbac.authorization.k8s.io": {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"},
    "storage.k8s.io": {"CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass", "VolumeAttachment",
                       "VolumeAttributesClass"},
    "scheduling.k8s.io": {"PriorityClass"},
    "coordination.k8s.io": {"Lease"},
    "discovery.k8s.io": {"EndpointSlice"},
    "node.k8s.io": {"RuntimeClass"},
    "certificates.k8s.io": {"CertificateSigningRequest", "ClusterTrustBundle"},
    "admissionregistration.k8s.io": {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
                                     "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"},
    "apiextensions.k8s.io": {"CustomResourceDefinition"},
    "apiregistration.k8s.io": {"APIService"},
    "events.k8s.io": {"Event"},
    "flowcontrol.apiserver.k8s.io": {"FlowSchema", "PriorityLevelConfiguration"},
}
HELM_SOURCE = re.compile(r"^# Source: (\S+)", re.MULTILINE)


@dataclass(eq=False)
class Manifest:
    """One Kubernetes object of a file: the parsed mapping plus where it came from."""

    doc: CommentedMap
    file: Path
    index: int  # 0-based position among the file's objects
    line: int  # 1-based line where the object starts
    helm_source: str | None = None  # the chart template named by helm's `# Source:` comment

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind"))

    @property
    def api_version(self) -> str:
        return str(self.doc.get("apiVersion"))

    @property
    def name(self) -> str:
        metadata = self.doc.get("metadata")
        if isinstance(metadata, dict):
            return str(metadata.get("name") or metadata.get("generateName") or "")
        return ""

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name or '(unnamed)'}"

    def line_of(self, path: tuple) -> int:
        """1-based line of the deepest node of `path` present in this object (the object's line if none is)."""
        return line_of(self.doc, path) or self.line


def line_of(node, path: tuple) -> int | None:
    """1-based line of the deepest existing node along path (keys: str, list positions: int)."""
    found = None
    for segment in path:
        if isinstance(node, CommentedMap) and isinstance(segment, str) and segment in node:
            found = node.lc.key(segment)[0] + 1
            node = node[segment]
        elif isinstance(node, CommentedSeq) and isinstance(segment, int) and 0 <= segment < len(node):
            found = node.lc.item(segment)[0] + 1
            node = node[segment]
        else:
            break
    return found


def plain(node):
    """ruamel's commented containers as plain dicts and lists (so comparisons and JSON see only data)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _api_group(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def _is_builtin_group(group: str) -> bool:
    """Groups whose kinds this loader knows; any other dotted group (a CRD's) is accepted as a custom resource."""
    return group in BUILTIN_KINDS or "." not in group


def _doc_line(doc) -> int:
    return doc.lc.line + 1 if hasattr(doc, "lc") and doc.lc.line is not None else 1


def _kind_errors(doc, where: str) -> list[str]:
    if not isinstance(doc, CommentedMap):
        got = "a list" if isinstance(doc, list) else f"the scalar {str(doc)[:40]!r}"
        return [f"{where}: expected a Kubernetes object (a mapping with apiVersion and kind), got {got}"]
    errors = []
    for key in ("apiVersion", "kind"):
        value = doc.get(key)
        if not isinstance(value, str) or not value.strip():
            errors.append(f"{where}: missing {key}; not a Kubernetes object")
    if errors:
        return errors
    group, kind = _api_group(doc["apiVersion"]), doc["kind"]
    if _is_builtin_group(group) and kind not in BUILTIN_KINDS.get(group, set()):
        errors.append(f"{where}: unknown kind {kind!r} for apiVersion {doc['apiVersion']!r}")
    metadata = doc.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        errors.append(f"{where}: metadata must be a mapping")
    return errors


def _objects(doc, file: Path, index: int) -> Iterator[tuple[CommentedMap | None, str]]:
    """The object(s) of one document, each with where it is: a `kind: List` is expanded into its items."""
    where = f"{file}:{_doc_line(doc)}: document {index + 1}"
    if isinstance(doc, CommentedMap) and doc.get("kind") == "List" and doc.get("apiVersion") == "v1":
        items = doc.get("items") or []
        if not isinstance(items, CommentedSeq):
            yield None, f"{where}: List.items must be a list"
            return
        for position, item in enumerate(items):
            line = item.lc.line + 1 if isinstance(item, CommentedMap) else items.lc.item(position)[0] + 1
            yield item, f"{file}:{line}: document {index + 1} items[{position}]"
    else:
        yield doc, where


def load_text(text: str, file: Path) -> list[Manifest]:
    """The Kubernetes objects of one multi-document YAML text; UserError on anything else."""
    file = Path(file)
    try:
        docs = list(_yaml().load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"{mark.line + 1}:{mark.column + 1}" if mark else "?"
        problem = " ".join(filter(None, [exc.context, exc.problem])) or str(exc).splitlines()[0]
        raise UserError(f"{file}:{line}: YAML syntax error: {problem}") from None
    except YAMLError as exc:
        raise UserError(f"{file}: YAML error: {str(exc).splitlines()[0]}") from None

    source_lines = [m.start() for m in HELM_SOURCE.finditer(text)]
    line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
    sources = [(bisect.bisect_right(line_starts, offset), m.group(1))
               for offset, m in zip(source_lines, HELM_SOURCE.finditer(text), strict=True)]

    manifests, errors = [], []
    for doc_index, doc in enumerate(docs):
        if doc is None:  # an empty document (helm emits them for templates that render nothing)
            continue
        for obj, obj_where in _objects(doc, file, doc_index):
            problems = _kind_errors(obj, obj_where) if obj is not None else [obj_where]
            if problems:
                errors += problems
                continue
            line = _doc_line(obj)
            helm_source = next((name for src_line, name in reversed(sources) if src_line <= line), None)
            manifests.append(Manifest(obj, file, len(manifests), line, helm_source))
    if errors:
        raise UserError("\n".join(errors))
    if not manifests:
        raise UserError(f"{file}: no Kubernetes objects (the file is empty or holds only empty documents)")
    return manifests


def load_file(path: Path) -> list[Manifest]:
    """The Kubernetes objects of a rendered YAML file; UserError (file, line, document) on bad input."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a YAML file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    return list(_parsed(text, path))


@functools.lru_cache(maxsize=32)
def _parsed(text: str, path: Path) -> tuple[Manifest, ...]:
    """One parse per file content: validate's policy and parity read the same renders (treat them as read-only)."""
    return tuple(load_text(text, path))


def forget_parsed() -> None:
    """Drop the parse cache (benchmarks time a cold parse)."""
    _parsed.cache_clear()
