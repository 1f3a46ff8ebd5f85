"""Pinned kubeconform and helm: used from PATH when the version matches, else `go install`ed into a cache."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from pathlib import Path

from tools import versions
from tools.errors import ToolMissing
from tools.run import run


def cache_dir() -> Path:
    """Where built tools and schemas live (KZ_CACHE_DIR, else ~/.cache/kube-zookeeper)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kube-zookeeper"
    return Path(os.environ.get("KZ_CACHE_DIR", default))


_TOOLS = {
    "kubeconform": (versions.KUBECONFORM_MODULE, versions.KUBECONFORM_VERSION, ["-v"]),
    "helm": (versions.HELM_MODULE, versions.HELM_VERSION, ["version", "--template", "{{.Version}}"]),
}


def _version_of(binary: str, args: list[str]) -> str:
    result = run([binary, *args], check=False, timeout=30)
    match = re.search(r"v\d+\.\d+\.\d+", result.stdout + result.stderr)
    return match.group(0) if match else ""


def ensure(name: str) -> str:
    """Path of the pinned `name` binary, installing it once with `go install` if needed."""
    module, version, version_args = _TOOLS[name]
    on_path = shutil.which(name)
    if on_path and _version_of(on_path, version_args) == version:
        return on_path
    target_dir = cache_dir() / "bin" / f"{name}-{version}"
    binary = target_dir / name
    if binary.exists():
        return str(binary)
    go = shutil.which("go")
    if not go:
        raise ToolMissing(
            f"{name} {version} is needed and Go is not installed to build it; "
            f"install Go, or put {name} {version} on PATH"
        )
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(target_dir.parent / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time, across processes
        if not binary.exists():
            _go_install(go, module, version, target_dir)
    return str(binary)


def _go_install(go: str, module: str, version: str, target_dir: Path) -> None:
    """`go install` into a temporary directory, then move it into place: no half-installed binary."""
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.", dir=target_dir.parent))
    try:
        print(f"installing {target_dir.name} with go install (once, into {target_dir})", flush=True)
        run([go, "install", f"{module}@{version}"], env={"GOBIN": str(tmp_dir), "CGO_ENABLED": "0"}, timeout=1800)
        tmp_dir.rename(target_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
