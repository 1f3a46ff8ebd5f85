"""kubeconform, pinned (see tools/base/versions.py), strict, against the offline schema cache."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tools.base import toolcache
from tools.base.run import CommandError, run
from tools.render import crds, schemas


@dataclass(frozen=True)
class Outcome:
    """kubeconform's verdict on one object for one Kubernetes version."""

    file: str
    kind: str
    name: str
    api_version: str
    kube_version: str
    status: str  # statusValid | statusInvalid | statusError | statusSkipped | statusEmpty
    message: str

    @property
    def failed(self) -> bool:
        return self.status in ("statusInvalid", "statusError")


def kubeconform() -> str:
    return toolcache.ensure("kubeconform")


def schema_locations() -> list[str]:
    """kubeconform's flags for the offline schemas: Kubernetes' own, then the CRDs'."""
    return ["-schema-location", schemas.location_template(), "-schema-location", crds.location_template()]


def validate(files: list[Path], kube_version: str, binary: str | None = None) -> list[Outcome]:
    """Validate every file against one Kubernetes version in one kubeconform call."""
    cmd = [
        binary or kubeconform(), "-strict", "-output", "json", "-verbose",
        "-kubernetes-version", kube_version.lstrip("v"),
        *schema_locations(),
        *map(str, files),
    ]
    result = run(cmd, check=False, timeout=300)
    try:
        resources = json.loads(result.stdout or "{}").get("resources") or []
    except json.JSONDecodeError:
        raise CommandError(cmd, result) from None
    if result.code not in (0, 1):
        raise CommandError(cmd, result)
    return [
        Outcome(r.get("filename", ""), r.get("kind", ""), r.get("name", ""), r.get("version", ""), kube_version,
                r.get("status", ""), r.get("msg", ""))
        for r in resources
    ]
