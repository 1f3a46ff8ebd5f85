"""The prometheus-operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule) and kubeconform schemas made from them.

The CRDs come from the pinned Go module (tools/base/versions.py) through `go mod download`, once, into Go's module
cache; the module's hash is checked against the pin. Each CRD version's openAPIV3Schema becomes a strict standalone JSON
schema (`additionalProperties: false` wherever the CRD lists properties and allows nothing else), named as
kubeconform looks it up, in a cache directory used for every Kubernetes version.

    crd_paths()          # the three CRD YAML files, for a cluster to apply before the monitoring objects
    crd_documents()      # the same, parsed
    ensure_schemas()     # build the schemas once; returns their directory
    location_template()  # the kubeconform -schema-location for them
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from functools import cache
from pathlib import Path

import yaml

from tools.base import versions
from tools.base.errors import ToolMissing, UserError
from tools.base.run import run
from tools.base.toolcache import cache_dir
from tools.cli.kubeconform import schema_filename

GROUP = "monitoring.coreos.com"
PLURALS = ("servicemonitors", "podmonitors", "prometheusrules")
CRD_DIR = "example/prometheus-operator-crd"


@cache
def module_dir() -> Path:
    """The pinned prometheus-operator module's source directory, downloaded once and checked against its pin."""
    go = shutil.which("go")
    if not go:
        raise ToolMissing("go not found: it downloads the prometheus-operator CRDs "
                          f"({versions.PROMETHEUS_OPERATOR_MODULE}@{versions.PROMETHEUS_OPERATOR_VERSION}); install Go")
    spec = f"{versions.PROMETHEUS_OPERATOR_MODULE}@{versions.PROMETHEUS_OPERATOR_VERSION}"
    module_cache = run([go, "env", "GOMODCACHE"], timeout=60).stdout.strip()
    fetching = not (Path(module_cache) / spec).is_dir()
    if fetching:
        print(f"downloading {spec} (the prometheus-operator CRDs) with go mod download, once", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as outside_any_module:
        result = run([go, "mod", "download", "-json", spec], cwd=Path(outside_any_module), check=False, timeout=600)
    try:
        info = json.loads(result.stdout)
    except json.JSONDecodeError:
        info = {}
    if result.code != 0 or "Dir" not in info:
        problem = info.get("Error") or (result.stderr or result.stdout).strip()
        raise UserError(f"go mod download {spec} failed: {problem}")
    if info.get("Sum") != versions.PROMETHEUS_OPERATOR_SUM:
        raise UserError(f"{spec}: module hash {info.get('Sum')} differs from the pinned "
                        f"{versions.PROMETHEUS_OPERATOR_SUM} (tools/base/versions.py)")
    if fetching:
        print(f"downloaded {spec} in {time.monotonic() - started:.1f} s", flush=True)
    return Path(info["Dir"])


def crd_paths() -> list[Path]:
    """The ServiceMonitor, PodMonitor and PrometheusRule CRD files of the pinned prometheus-operator."""
    root = module_dir() / CRD_DIR
    paths = [root / f"{GROUP}_{plural}.yaml" for plural in PLURALS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise UserError(f"{versions.PROMETHEUS_OPERATOR_MODULE}@{versions.PROMETHEUS_OPERATOR_VERSION} lacks "
                        f"{', '.join(missing)}; pin a version that ships them")
    return paths


def crd_documents() -> list[dict]:
    """The three CRDs, parsed (one CustomResourceDefinition each)."""
    return [yaml.safe_load(path.read_text()) for path in crd_paths()]


def strict(schema):
    """The schema with `additionalProperties: false` on every object that lists properties and sets nothing else."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if "properties" in out and "additionalProperties" not in out \
            and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def schemas_of(crd: dict) -> dict[str, dict]:
    """kubeconform file name -> strict JSON schema, for every served version of one CRD."""
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    found = {}
    for version in crd["spec"]["versions"]:
        if not version.get("served", True):
            continue
        schema = strict(version["schema"]["openAPIV3Schema"])
        found[schema_filename(f"{group}/{version['name']}", kind)] = schema
    return found


def schema_root() -> Path:
    return cache_dir() / "schemas" / f"prometheus-operator-{versions.PROMETHEUS_OPERATOR_VERSION}"


def ensure_schemas() -> Path:
    """Write the strict schemas of the three CRDs once (all or nothing); returns their directory."""
    root = schema_root()
    if root.is_dir():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        for crd in crd_documents():
            for name, schema in schemas_of(crd).items():
                (staging / name).write_text(json.dumps(schema))
        try:
            os.rename(staging, root)
        except OSError:
            if not root.is_dir():  # another process won the race: fine; anything else is a real error
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def location_template() -> str:
    """The kubeconform `-schema-location` of the CRD schemas (the same for every Kubernetes version)."""
    return str(schema_root()) + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
