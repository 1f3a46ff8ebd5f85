"""kubectl, as found on PATH, and its built-in kustomize."""

from __future__ import annotations

from pathlib import Path

from tools.base.run import run, which

_HINT = "install kubectl (it carries kustomize), e.g. from your distribution or the Kubernetes release packages"


def kubectl() -> str:
    return which("kubectl", _HINT)


def build(directory: Path) -> str:
    """`kubectl kustomize DIR`: the rendered multi-document YAML."""
    return run([kubectl(), "kustomize", str(directory)], timeout=120).stdout
