"""The rendered profiles: every overlay, the chart with its defaults and with every environment's values file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tools import REPO_ROOT
from tools.base.errors import UserError

ENVIRONMENTS = ("minikube", "kind", "openshift", "production")
LAPTOP_ENVIRONMENTS = ("minikube", "kind")


@dataclass(frozen=True)
class Profile:
    """One way of producing manifests: `overlay-<env>` (Kustomize) or `chart-<env>` (Helm)."""

    source: str  # "overlay" or "chart"
    env: str  # one of ENVIRONMENTS, or "default" for the chart without a values file
    root: Path = REPO_ROOT

    @property
    def name(self) -> str:
        return f"{self.source}-{self.env}"

    @property
    def path(self) -> Path:
        """The overlay directory, or the chart's ci values file (the chart dir for `default`)."""
        if self.source == "overlay":
            return self.root / "overlays" / self.env
        if self.env == "default":
            return self.root / "chart"
        return self.root / "chart" / "ci" / f"{self.env}-values.yaml"

    @property
    def is_laptop(self) -> bool:
        return self.env in LAPTOP_ENVIRONMENTS


def all_profiles(root: Path = REPO_ROOT) -> list[Profile]:
    return [*(Profile("overlay", env, root) for env in ENVIRONMENTS), Profile("chart", "default", root),
            *(Profile("chart", env, root) for env in ENVIRONMENTS)]


def select(names: list[str], root: Path = REPO_ROOT) -> list[Profile]:
    """Profiles by name; an unknown name is a UserError listing the known ones."""
    known = {p.name: p for p in all_profiles(root)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UserError(f"unknown profile {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names] if names else list(known.values())
