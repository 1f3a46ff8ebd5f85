"""kubeconform, pinned (see tools/base/versions.py), strict, against offline schemas (the caller says where: see
tools.render.schemas.locations()), and its file naming of schemas."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tools.base import toolcache
from tools.base.run import CommandError, run


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


def schema_filename(api_version: str, kind: str) -> str:
    """kubeconform's file name for a kind: statefulset-apps-v1.json, service-v1.json."""
    group, _, version = api_version.rpartition("/")
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return f"{kind.lower()}{suffix}.json"


def location_flags(locations: list[str]) -> list[str]:
    """`-schema-location L` for each location (a path template, e.g. tools.render.schemas.locations())."""
    return [word for location in locations for word in ("-schema-location", location)]


@dataclass(frozen=True)
class Kubeconform:
    """The pinned kubeconform binary (`Kubeconform.pinned()` builds it once into the tool cache)."""

    program: str

    @classmethod
    def pinned(cls) -> Kubeconform:
        return cls(toolcache.ensure("kubeconform"))

    def validate(self, files: list[Path], kube_version: str, locations: list[str]) -> list[Outcome]:
        """Validate every file against one Kubernetes version in one call, with the schemas at locations."""
        cmd = [
            self.program, "-strict", "-output", "json", "-verbose",
            "-kubernetes-version", kube_version.lstrip("v"),
            *location_flags(locations),
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
