"""Trace a rendered field back to the repository file (and line) it came from.

Overlays: kustomize names each object's origin (`buildMetadata: [originAnnotations]`, built from a wrapper
kustomization in a temp dir, so the deployable output is untouched); a field set by a patch is found by looking up
the same path in the patch files of the overlay, its components and the base (the last one applied wins); a
ConfigMap key by the generator literal or env-file line that sets it. Chart: helm's `# Source:` comment names the
template; a line is given when the field's key appears there (or in the values files) exactly once.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.checks.policy.model import get
from tools.cli.kubectl import Kubectl
from tools.render.manifests import Manifest

Tracer = Callable[[Manifest, tuple], "str | None"]
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ORIGIN = "config.kubernetes.io/origin"
IDENTITY_PATHS = {("apiVersion",), ("kind",), ("metadata",), ("metadata", "name"), ("metadata", "namespace")}


def display(path: Path, *roots: Path) -> str:
    """path relative to the first root it is under, else absolute."""
    path = Path(os.path.normpath(os.path.abspath(path)))
    for root in roots:
        try:
            return str(path.relative_to(root))
        except ValueError:
            continue
    return str(path)


def _load_rt(path: Path) -> list:
    """A YAML file's documents with line numbers ([] if unreadable); parsed once per version of the file."""
    try:
        stat = path.stat()
    except OSError:
        return []
    return _parse_rt(path, stat.st_mtime_ns, stat.st_size)


@cache
def _parse_rt(path: Path, mtime_ns: int, size: int) -> list:
    try:
        return [d for d in YAML(typ="rt").load_all(path.read_text()) if d is not None]
    except (OSError, YAMLError):
        return []


def semantic_path(doc, path: tuple) -> list:
    """The rendered path with list positions replaced by item names where items have one (merge keys)."""
    result, node = [], doc
    for segment in path:
        if isinstance(segment, int) and isinstance(node, list) and 0 <= segment < len(node):
            item = node[segment]
            name = item.get("name") if isinstance(item, dict) else None
            result.append(("name", name) if name is not None else segment)
            node = item
        else:
            result.append(segment)
            node = node.get(segment) if isinstance(node, dict) else None
    return result


def navigate(node, path: list) -> tuple[int | None, bool]:
    """(1-based line of the deepest node found, whether the whole path was found)."""
    line = None
    for segment in path:
        if isinstance(segment, tuple) and isinstance(node, CommentedSeq):
            position = next((i for i, item in enumerate(node)
                             if isinstance(item, dict) and item.get("name") == segment[1]), None)
            if position is None:
                return line, False
            line, node = node.lc.item(position)[0] + 1, node[position]
        elif isinstance(segment, int) and isinstance(node, CommentedSeq) and 0 <= segment < len(node):
            line, node = node.lc.item(segment)[0] + 1, node[segment]
        elif isinstance(segment, str) and isinstance(node, CommentedMap) and segment in node:
            line, node = node.lc.key(segment)[0] + 1, node[segment]
            if node is None:  # `key: null` in a strategic merge patch deletes the field: this is where it went
                return line, True
        else:
            return line, False
    return line, True


def _entry_line(entries: CommentedSeq, index: int, entry: CommentedMap, key: str) -> int:
    """The line of `key` in a list entry of a kustomization, else of the entry."""
    return entry.lc.key(key)[0] + 1 if key in entry else entries.lc.item(index)[0] + 1


def json_pointer(path: tuple) -> str:
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in path)


@dataclass
class Patch:
    file: Path
    docs: list  # strategic merge documents, or one list of JSON 6902 operations
    target: dict | None
    entry_line: int | None = None  # line of an inline patch's entry in its kustomization
    line_offset: int | None = None  # an inline block patch: its line N is the kustomization's line offset + N

    def line(self, inner: int) -> int:
        if self.entry_line is None:
            return inner
        return self.line_offset + inner if self.line_offset is not None else self.entry_line


@dataclass
class Generator:
    kustomization: Path
    entry: CommentedMap


def _targets(target: dict | None, doc, manifest: Manifest) -> bool:
    def same_name(name) -> bool:
        return name == manifest.name or (manifest.kind in ("ConfigMap", "Secret")
                                         and manifest.name.startswith(f"{name}-"))

    if target:
        if target.get("kind") not in (None, manifest.kind):
            return False
        name = target.get("name")
        return name is None or same_name(name) or bool(re.fullmatch(str(name), manifest.name))
    if isinstance(doc, dict):
        return doc.get("kind") == manifest.kind and same_name((doc.get("metadata") or {}).get("name"))
    return False


class KustomizeTracer:
    """Built on the first lookup, and the object origins (an extra kustomize run) only when a finding is not traced
    to a patch, generator or `replicas:`/`images:` entry: a profile without such findings costs no kustomize run."""

    def __init__(self, overlay: Path, root: Path):
        self.overlay, self.root = overlay.resolve(), root
        self.patches: list[Patch] = []
        self.generators: list[Generator] = []
        self.images: list[tuple[Path, int, CommentedMap]] = []  # (kustomization, line, `images:` entry)
        self.walked = False
        self._origins_found: dict | None = None

    @property
    def origins(self) -> dict:
        if self._origins_found is None:
            try:
                self._origins_found = self._origins(self.overlay)
            except (UserError, OSError, yaml.YAMLError):
                self._origins_found = {}  # patches and generators still trace; object origins are unknown
        return self._origins_found

    def _walk(self, directory: Path, seen: set) -> None:
        """Patches and generators in the order kustomize applies them: resources, components, own."""
        kfile = next((directory / n for n in KUSTOMIZATION_NAMES if (directory / n).is_file()), None)
        if kfile is None or kfile in seen:
            return
        seen.add(kfile)
        docs = _load_rt(kfile)
        k = docs[0] if docs and isinstance(docs[0], dict) else {}
        for key in ("resources", "components"):
            for entry in k.get(key) or []:
                if (directory / str(entry)).is_dir():
                    self._walk((directory / str(entry)).resolve(), seen)
        for index, entry in enumerate(k.get("patches") or []):
            if not isinstance(entry, dict):
                continue
            if entry.get("path"):
                self._add_patch(directory / entry["path"], entry.get("target"))
            elif entry.get("patch"):
                self.patches.append(self._inline_patch(kfile, entry, k["patches"].lc.item(index)[0] + 1))
        for entry in k.get("patchesStrategicMerge") or []:
            if (directory / str(entry)).is_file():
                self._add_patch(directory / str(entry), None)
        for entry in k.get("patchesJson6902") or []:
            if isinstance(entry, dict) and entry.get("path"):
                self._add_patch(directory / entry["path"], entry.get("target"))
        for index, entry in enumerate(k.get("replicas") or []):  # applied after the patches of its kustomization
            if isinstance(entry, CommentedMap) and entry.get("name"):
                doc = YAML(typ="rt").load("spec:\n  replicas: 0\n")  # a patch of spec.replicas; lines unused
                self.patches.append(Patch(kfile, [doc], {"name": str(entry["name"])},
                                          entry_line=_entry_line(k["replicas"], index, entry, "count")))
        for index, entry in enumerate(k.get("images") or []):
            if isinstance(entry, CommentedMap) and entry.get("name"):
                self.images.append((kfile, _entry_line(k["images"], index, entry, "newName"), entry))
        for entry in k.get("configMapGenerator") or []:
            if isinstance(entry, CommentedMap):
                self.generators.append(Generator(kfile, entry))

    @staticmethod
    def _inline_patch(kfile: Path, entry: CommentedMap, entry_line: int) -> Patch:
        """A `patch: |` written in the kustomization: its lines are counted from the line of `patch:`."""
        text = entry["patch"]
        try:
            docs = [d for d in YAML(typ="rt").load_all(str(text)) if d is not None]
        except YAMLError:
            docs = []
        block = isinstance(text, (LiteralScalarString, FoldedScalarString))
        return Patch(kfile, docs, entry.get("target"), entry_line,
                     line_offset=entry.lc.key("patch")[0] + 1 if block else None)

    def _add_patch(self, file: Path, target) -> None:
        docs = _load_rt(file.resolve())
        if docs:
            self.patches.append(Patch(file.resolve(), docs, target))

    def _origins(self, overlay: Path) -> dict[tuple[str, str], Path | str]:
        """(kind, name) -> the resource file it came from, or the kustomization whose generator made it."""
        staging = Path(tempfile.mkdtemp(prefix="policy-origins-"))
        try:
            (staging / "kustomization.yaml").write_text(
                "resources:\n  - " + os.path.relpath(overlay, staging) + "\nbuildMetadata: [originAnnotations]\n")
            text = Kubectl().kustomize(staging)
            origins = {}
            for doc in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
                if not isinstance(doc, dict):
                    continue
                meta = doc.get("metadata") or {}
                origin = yaml.safe_load((meta.get("annotations") or {}).get(ORIGIN) or "null") or {}
                where = origin.get("path") or origin.get("configuredIn")
                if where:
                    origins[(doc.get("kind"), meta.get("name"))] = (staging / where).resolve()
            return origins
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def __call__(self, manifest: Manifest, path: tuple) -> str | None:
        if not self.walked:
            self._walk(self.overlay, set())
            self.walked = True
        if manifest.kind == "ConfigMap" and len(path) == 2 and path[0] == "data":
            found = self._generator_line(manifest, str(path[1]))
            if found:
                return found
        if path and path[-1] == "image":
            found = self._image_line(str(get(manifest.doc, path) or ""))
            if found:
                return found
        semantic = semantic_path(manifest.doc, path)
        for patch in reversed(self.patches):
            line = self._patch_line(patch, manifest, path, semantic)
            if line:
                return f"{display(patch.file, self.root)}:{line}"
        origin = self.origins.get((manifest.kind, manifest.name))
        if origin is None:
            return None
        docs = [doc for doc in _load_rt(origin) if isinstance(doc, dict) and doc.get("kind") == manifest.kind]
        named = [doc for doc in docs if _targets(None, doc, manifest)]  # a file may hold two ConfigMaps
        for doc in named or docs:
            line, _ = navigate(doc, semantic)
            if doc.get("kind") != "Kustomization" and line:
                return f"{display(origin, self.root)}:{line}"
        return display(origin, self.root)

    def _image_line(self, image: str) -> str | None:
        """The last `images:` entry that renamed or retagged this image (kustomize applies the last one)."""
        repository = re.sub(r"(@.*|:[^/:]*)$", "", image)
        for kfile, line, entry in reversed(self.images):
            if repository in (str(entry.get("newName") or ""), str(entry["name"])):
                return f"{display(kfile, self.root)}:{line}"
        return None

    def _patch_line(self, patch: Patch, manifest: Manifest, path: tuple, semantic: list) -> int | None:
        if patch.docs and isinstance(patch.docs[0], list):  # JSON 6902
            if not _targets(patch.target, None, manifest):
                return None
            pointer = json_pointer(path)
            ops = patch.docs[0]
            for index in reversed(range(len(ops))):
                op = ops[index]
                op_path = str(op.get("path", "")) if isinstance(op, dict) else ""
                if op_path and (pointer == op_path or pointer.startswith(op_path + "/")):
                    return patch.line(self._op_line(op, ops.lc.item(index)[0] + 1, pointer[len(op_path):]))
            return None
        if tuple(path) in IDENTITY_PATHS:
            return None  # every patch of the object repeats its identity; none of them set it
        for doc in patch.docs:
            if _targets(patch.target, doc, manifest) and isinstance(doc, CommentedMap):
                line, complete = navigate(doc, semantic)
                if complete and line:
                    return patch.line(line)
        return None

    @staticmethod
    def _op_line(op: CommentedMap, op_line: int, rest: str) -> int:
        """The line of the op's value (or of the part of it at the rest of the pointer), else of the op."""
        if "value" not in op:
            return op_line
        if not rest:
            return op.lc.key("value")[0] + 1
        parts = [p.replace("~1", "/").replace("~0", "~") for p in rest.strip("/").split("/")]
        line, _ = navigate(op["value"], [int(p) if p.isdigit() else p for p in parts])
        return line or op.lc.key("value")[0] + 1

    def _generator_line(self, manifest: Manifest, key: str) -> str | None:
        for generator in reversed(self.generators):
            entry = generator.entry
            name = str(entry.get("name"))
            if manifest.name != name and not manifest.name.startswith(f"{name}-"):
                continue
            literals = entry.get("literals") or []
            for index, literal in enumerate(literals):
                if str(literal).split("=", 1)[0].strip() == key:
                    return f"{display(generator.kustomization, self.root)}:{literals.lc.item(index)[0] + 1}"
            for env_file in [*(entry.get("envs") or []), *([entry["env"]] if entry.get("env") else [])]:
                path = generator.kustomization.parent / str(env_file)
                try:
                    lines = path.read_text().splitlines()
                except OSError:
                    continue
                for number, text in enumerate(lines, 1):
                    if text.split("=", 1)[0].strip() == key:
                        return f"{display(path, self.root)}:{number}"
            files = entry.get("files") or []
            for index, item in enumerate(files):
                item = str(item)
                if (item.split("=", 1)[0] if "=" in item else Path(item).name) == key:
                    return f"{display(generator.kustomization, self.root)}:{files.lc.item(index)[0] + 1}"
        return None


def find_key_line(text: str, keys: list[str]) -> int | None:
    """The line of the last key in text, when exactly one such line sits under the key before it."""
    lines = text.splitlines()
    hits = []
    pattern = re.compile(rf"^(\s*)(?:-\s+)?{re.escape(keys[-1])}:")
    for number, line in enumerate(lines):
        match = pattern.match(line)
        if not match:
            continue
        if len(keys) > 1:
            indent = len(match.group(1))
            parent = next((p for p in reversed(lines[:number])
                           if p.strip() and not p.lstrip().startswith("#") and len(p) - len(p.lstrip()) < indent), "")
            if not re.match(rf"^\s*(?:-\s+)?{re.escape(keys[-2])}:", parent):
                continue
        hits.append(number + 1)
    return hits[0] if len(hits) == 1 else None


VALUES_REF = re.compile(r"\.Values((?:\.\w+)+)")


class HelmTracer:
    """The template line that renders a field; when that line reads exactly one value (`.Values.heap`), the values
    file that sets it (the profile's, else chart/values.yaml). Without a unique line: the key in the values files
    (a block rendered by toYaml), else the template alone."""

    def __init__(self, chart: Path, values: list[Path], root: Path):
        self.chart, self.values, self.root = chart, values, root

    def __call__(self, manifest: Manifest, path: tuple) -> str | None:
        if not manifest.helm_source:
            return None
        template = self.chart / manifest.helm_source.split("/", 1)[-1]
        keys = [s for s in path if isinstance(s, str)][-2:]
        try:
            text = template.read_text()
        except OSError:
            text = ""
        line = (find_key_line(text, keys) or find_key_line(text, keys[-1:])) if keys else None
        if line:
            refs = set(VALUES_REF.findall(text.splitlines()[line - 1]))
            value = self._value_line(refs.pop().strip(".").split(".")) if len(refs) == 1 else None
            return value or f"{display(template, self.root)}:{line}"
        for file in self.values:
            try:
                line = find_key_line(file.read_text(), keys) if keys else None
            except OSError:
                continue
            if line:
                return f"{display(file, self.root)}:{line}"
        return display(template, self.root)

    def _value_line(self, keys: list[str]) -> str | None:
        for file in self.values:
            for doc in _load_rt(file):
                line, complete = navigate(doc, keys)
                if complete and line:
                    return f"{display(file, self.root)}:{line}"
        return None


def tracer_for(profile: Profile) -> Tracer | None:
    """The tracer for a profile (None: not traceable); a failing kustomize only loses the object origins."""
    if profile.source == "overlay":
        return KustomizeTracer(profile.path, profile.root)
    if profile.source == "chart":
        chart = profile.root / "chart"
        values = [] if profile.env == "default" else [profile.path]
        return HelmTracer(chart, [*values, chart / "values.yaml"], profile.root)
    return None
