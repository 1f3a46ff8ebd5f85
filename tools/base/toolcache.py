"""Pinned kubeconform, helm and promtool: used from PATH when the version matches, else `go install`ed into a cache.
Python tools whose dependencies clash with the toolchain's (checkov) get a virtual environment of their own there."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from tools.base import progress, versions
from tools.base.errors import ToolMissing
from tools.base.run import run


def cache_dir() -> Path:
    """Where built tools and schemas live (KZ_CACHE_DIR, else ~/.cache/kube-zookeeper)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kube-zookeeper"
    return Path(os.environ.get("KZ_CACHE_DIR", default))


_TOOLS = {
    "kubeconform": (versions.KUBECONFORM_MODULE, versions.KUBECONFORM_VERSION, ["-v"]),
    "helm": (versions.HELM_MODULE, versions.HELM_VERSION, ["version", "--template", "{{.Version}}"]),
    "promtool": (versions.PROMTOOL_MODULE, versions.PROMTOOL_VERSION, ["--version"]),
}


def _release_of(version: str) -> str:
    """The version a release binary prints: Prometheus's Go module v0.316.0 is its release 3.16.0."""
    match = re.fullmatch(r"v0\.(\d)(\d\d)\.(\d+)", version)
    return f"v{match.group(1)}.{int(match.group(2))}.{match.group(3)}" if match else version


# `go install` flags beyond the module: helm's Makefile sets the Kubernetes version helm renders for
# (.Capabilities.KubeVersion, checked against a chart's kubeVersion) and its own version; without them helm says
# Kubernetes v1.20.0 and "v3.19". The suffix keeps a binary built without them out of the cache.
_BUILD = {
    "helm": ("-k8s" + versions.HELM_KUBERNETES_VERSION, [
        f"-X=helm.sh/helm/v3/internal/version.version={versions.HELM_VERSION}",
        *(f"-X=helm.sh/helm/v3/pkg/{pkg}.k8sVersion{part}={value}"
          for pkg in ("chartutil", "lint/rules")
          for part, value in zip(("Major", "Minor"), versions.HELM_KUBERNETES_VERSION.split("."), strict=True)),
    ]),
}


def _version_of(binary: str, args: list[str]) -> str:
    result = run([binary, *args], check=False, timeout=30)
    match = re.search(r"v?\d+\.\d+\.\d+", result.stdout + result.stderr)
    return ("v" + match.group(0).lstrip("v")) if match else ""


def ensure(name: str) -> str:
    """Path of the pinned `name` binary, installing it once with `go install` if needed."""
    module, version, version_args = _TOOLS[name]
    on_path = shutil.which(name)
    if on_path and _version_of(on_path, version_args) in (version, _release_of(version)):
        return on_path
    suffix, ldflags = _BUILD.get(name, ("", []))
    target_dir = cache_dir() / "bin" / f"{name}-{version}{suffix}"
    binary = target_dir / name
    if binary.exists():
        return str(binary)
    go = go_binary(f"{name} {version}", f"or put {name} {version} on PATH")
    flags = ["-ldflags", " ".join(ldflags)] if ldflags else None
    build_once(target_dir, f"{name} {version} with go install",
               lambda tmp: go_install(go, f"{module}@{version}", tmp, flags),
               expect="5-20 minutes on 2 cores" if name == "helm" else "a few minutes")
    return str(binary)


def go_binary(what: str, alternative: str = "") -> str:
    """The Go toolchain, or ToolMissing saying what needed it."""
    go = shutil.which("go")
    if not go:
        suffix = f", {alternative}" if alternative else ""
        raise ToolMissing(f"{what} is needed and Go is not installed to build it; install Go{suffix}")
    return go


# A long build that should leave the machine usable for other work runs under this prefix.
NICE = ["nice", "-n", "10"]


def go_install(go: str, package: str, gobin: Path, flags: list[str] | None = None, nice: bool = False) -> None:
    """`go install package` with its binary put in gobin (static, CGO off), niced when asked."""
    run([*(NICE if nice else []), go, "install", *(flags or []), package],
        env={"GOBIN": str(gobin), "CGO_ENABLED": "0"}, timeout=3600)


_BUILDING: dict[Path, threading.Lock] = {}  # per target, for the threads of one process (setdefault is atomic)


def build_once(target_dir: Path, what: str, build: Callable[[Path], None], expect: str = "a few minutes") -> None:
    """Build into target_dir once, across processes (a lock), with progress; nothing half-built is left behind.

    build(tmp) writes into a temporary directory beside target_dir, which is renamed into place only when it
    returns; progress lines (tools.base.progress) say what is built, that it happens once, that it is still running and
    how long it took.
    """
    if target_dir.exists():
        return
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    # threads of one process (validate renders in parallel) wait silently; another process is named
    in_process = _BUILDING.setdefault(target_dir, threading.Lock())
    with in_process, open(target_dir.parent / f".{target_dir.name}.lock", "w") as lock:
        try:  # one build at a time, across processes
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            with progress.step(f"waiting for another process building {what}"):
                fcntl.flock(lock, fcntl.LOCK_EX)
        if target_dir.exists():
            return
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.", dir=target_dir.parent))
        try:
            with progress.step(f"building {what}", note=f"once, into {target_dir}; expect {expect} the first time",
                               heartbeat=60):
                build(tmp_dir)
            tmp_dir.rename(target_dir)
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)


def ensure_venv(package: str, version: str) -> Path:
    """The python of a virtual environment holding only `package==version`, made once with pip.

    Run the package as `python -m ...`: the environment is built in a temporary directory and moved into place, so
    the absolute paths pip writes into its console scripts would be wrong."""
    target_dir = cache_dir() / "venvs" / f"{package}-{version}"

    def build(tmp: Path) -> None:
        run([sys.executable, "-m", "venv", str(tmp)], timeout=300)
        run([str(tmp / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"{package}=={version}"], timeout=1800)

    build_once(target_dir, f"{package} {version} (pip, its own virtual environment)", build, expect="about a minute")
    return target_dir / "bin" / "python"
