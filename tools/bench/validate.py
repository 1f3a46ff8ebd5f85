"""Validate benchmarks: `nox -s validate` as a user types it against the bare tools (typed_bench), and validate
cold and warm as profiles and Kubernetes versions grow (validate_bench). Each returns [(name, value with unit)]."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools import REPO_ROOT
from tools.base import toolcache
from tools.base.errors import UserError
from tools.base.profiles import all_profiles
from tools.base.run import run
from tools.cli.helm import Helm
from tools.cli.kubeconform import location_flags
from tools.cli.kubectl import Kubectl
from tools.render import schemas


def _timed_validate(cache: Path, build: Path, *args: str) -> float:
    env = {**os.environ, "KZ_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO_ROOT)}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "tools.checks.validate", "--build-dir", str(build), *args],
                            capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=900)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise UserError(f"validate failed during the benchmark:\n{result.stdout}{result.stderr}")
    return seconds


def _cpu_and_wall(action) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child processes): CPU time barely depends on the machine's load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = action()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _typed(argv: list[str]) -> float:
    """Wall time of a command as a user types it in the repository (nox's own CI switch off, as on a laptop)."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=900)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise UserError(f"{' '.join(argv)} failed during the benchmark:\n{result.stdout}{result.stderr}")
    return seconds


def _bare_tools(build: Path, kube_versions: list[str]) -> float:
    """What validate runs, as plain commands one after another: kubectl kustomize per overlay, helm template per
    chart profile, one kubeconform call per Kubernetes version over all the files (same binaries, same schemas)."""
    kubectl, helm, kubeconform = Kubectl(), Helm(), toolcache.ensure("kubeconform")
    build.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    files = []
    for profile in all_profiles():
        if profile.source == "overlay":
            text = kubectl.kustomize(profile.path)
        else:
            text = helm.template(REPO_ROOT / "chart", values=[] if profile.env == "default" else [profile.path])
        files.append(build / f"{profile.name}.yaml")
        files[-1].write_text(text)
    for version in kube_versions:
        run([kubeconform, "-strict", "-kubernetes-version", version.lstrip("v"), *location_flags(schemas.locations()),
             *map(str, files)], timeout=300)
    return time.perf_counter() - start


def typed_bench() -> list[tuple[str, str]]:
    """`nox -s validate` as typed, warm, against the bare tools on the same files, alternating so both see the
    same machine load. Targets: at most 5 s, and at most 1.5 times the bare tools."""
    nox = [shutil.which("nox")] if shutil.which("nox") else [sys.executable, "-m", "nox"]
    commands = {"nox -s validate": [*nox, "-s", "validate"]}
    if shutil.which("pipx"):
        commands["pipx run nox -s validate"] = ["pipx", "run", "nox", "-s", "validate"]
    kube_versions = schemas.kubernetes_versions()
    for argv in commands.values():
        _typed(argv)  # warm: venv, install stamp, pinned tools, schemas
    load = os.getloadavg()[0]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in [*commands, "bare"]}
    with tempfile.TemporaryDirectory(prefix="kz-bench-") as tmp:
        for _ in range(3):
            for name, argv in commands.items():
                times[name].append(_cpu_and_wall(lambda argv=argv: _typed(argv)))
            times["bare"].append(_cpu_and_wall(lambda: _bare_tools(Path(tmp), kube_versions)))
    bare, bare_cpu = min(times["bare"])
    profiles = len(all_profiles())
    rows = [(f"bare tools: kubectl kustomize x4, helm template x{profiles - 4}, kubeconform x{len(kube_versions)}"
             " (best of 3)", f"{bare:.2f} s wall, {bare_cpu:.2f} s CPU")]
    for name in commands:
        best, cpu = min(times[name])
        rows += [(f"`{name}` as typed, warm (best of 3; target <= 5 s)", f"{best:.2f} s wall, {cpu:.2f} s CPU"),
                 (f"`{name}` / bare tools (target <= 1.5)", f"{best / bare:.2f}x wall, {cpu / bare_cpu:.2f}x CPU")]
    rows.append(("load average (1 min) at start / end", f"{load:.1f} / {os.getloadavg()[0]:.1f}"))
    return rows


def validate_bench() -> list[tuple[str, str]]:
    """Validate cold (empty schema cache and build dir; pinned binaries already built) and warm, and how it grows."""
    profiles = [p.name for p in all_profiles()]
    versions = schemas.kubernetes_versions()
    rows = []
    with tempfile.TemporaryDirectory(prefix="kz-bench-") as tmp:
        cache, build = Path(tmp) / "cache", Path(tmp) / "build"
        (cache / "bin").mkdir(parents=True)
        for tool in ("kubeconform", "helm"):  # reuse the built binaries: cold means no schemas, no renders
            binary = Path(toolcache.ensure(tool))
            shutil.copytree(binary.parent, cache / "bin" / binary.parent.name, dirs_exist_ok=True)
        cold = _timed_validate(cache, build)
        warm = min(_timed_validate(cache, build) for _ in range(3))
        label = f"{len(profiles)} profiles x {len(versions)} versions"
        rows += [(f"validate cold ({label})", f"{cold:.2f} s"),
                 (f"validate warm ({label}, best of 3)", f"{warm:.2f} s")]
        one_version = min(_timed_validate(cache, build, "--kube-versions", versions[-1]) for _ in range(3))
        one_profile = min(_timed_validate(cache, build, profiles[0]) for _ in range(3))
        rows += [(f"validate warm ({len(profiles)} profiles x 1 version)", f"{one_version:.2f} s"),
                 (f"validate warm (1 profile x {len(versions)} versions)", f"{one_profile:.2f} s")]
    return rows
