"""The `validate` section: `nox -s validate` (and `pipx run nox -s validate`) as a user types it, warm, against the
bare kubectl, helm and kubeconform calls it makes on the same files, alternating in the same go so both see the same
load (goals: at most 5 s, at most 1.5 times the bare tools); then validate cold (empty schema cache and build dir)
and warm, and how it grows with profiles and Kubernetes versions."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import REPO_ROOT
from tools.base import progress, toolcache
from tools.base.errors import UserError
from tools.base.profiles import all_profiles
from tools.base.run import run as run_command
from tools.bench import timing
from tools.bench.measure import Measure, Options
from tools.cli.kubeconform import location_flags
from tools.cli.kubectl import binary as kubectl_binary
from tools.render import schemas

REPEAT = 3  # best of
TYPED_GOAL_SECONDS = 5.0
TYPED_GOAL_RATIO = 1.5
BARE = "the bare tools"


def _command(argv: list[str], env: dict[str, str]) -> None:
    """Run argv in the repository with exactly env; a failure is the benchmark's error, with the command's output."""
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=900)
    if result.returncode != 0:
        raise UserError(f"{shlex.join(argv)} failed during the benchmark:\n{result.stdout}{result.stderr}")


def _as_typed(argv: list[str]) -> None:
    """A command as a user types it in the repository (nox's own CI switch off, as on a laptop)."""
    _command(argv, {k: v for k, v in os.environ.items() if k != "CI"})


def _validate(cache: Path, build: Path, *args: str) -> None:
    """tools.checks.validate itself (no nox), with its own tool cache and build directory."""
    _command([sys.executable, "-m", "tools.checks.validate", "--build-dir", str(build), *args],
             {**os.environ, "KZ_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO_ROOT)})


def _bare_tools(build: Path, kube_versions: list[str]) -> None:
    """What validate runs, as plain commands one after another: kubectl kustomize per overlay, helm template per
    chart profile, one kubeconform call per Kubernetes version over all the files (same binaries, same schemas).
    The argv is written out here on purpose: this is the baseline of what a user would type without the toolchain."""
    kubectl, helm, kubeconform = kubectl_binary(), toolcache.ensure("helm"), toolcache.ensure("kubeconform")
    build.mkdir(parents=True, exist_ok=True)
    files = []
    for profile in all_profiles():
        if profile.source == "overlay":
            argv = [kubectl, "kustomize", str(profile.path)]
        else:
            values = [] if profile.env == "default" else ["-f", str(profile.path)]
            argv = [helm, "template", "zk", str(REPO_ROOT / "chart"), *values]
        files.append(build / f"{profile.name}.yaml")
        files[-1].write_text(run_command(argv, timeout=120).stdout)
    for version in kube_versions:
        run_command([kubeconform, "-strict", "-kubernetes-version", version.lstrip("v"),
                     *location_flags(schemas.locations()), *map(str, files)], timeout=300)


def typed(repeat: int) -> list[Measure]:
    """`nox -s validate` as typed, warm, against the bare tools on the same files, alternating."""
    nox = [shutil.which("nox")] if shutil.which("nox") else [sys.executable, "-m", "nox"]
    commands = {"nox -s validate": [*nox, "-s", "validate"]}
    if shutil.which("pipx"):
        commands["pipx run nox -s validate"] = ["pipx", "run", "nox", "-s", "validate"]
    profiles = all_profiles()
    overlays = sum(profile.source == "overlay" for profile in profiles)
    kube_versions = schemas.kubernetes_versions()
    with progress.step(f"warming up {' and '.join(f'`{name}`' for name in commands)}",
                       note="venv, install stamp, pinned tools, schemas; not timed"):
        for argv in commands.values():
            _as_typed(argv)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in [*commands, BARE]}
    with tempfile.TemporaryDirectory(prefix="kz-bench-validate-") as tmp:
        for turn in range(1, repeat + 1):
            with progress.step(f"round {turn} of {repeat}: {', '.join(commands)} and {BARE}, one after another"):
                for name, argv in commands.items():
                    times[name].append(timing.wall_and_cpu(lambda argv=argv: _as_typed(argv)))
                times[BARE].append(timing.wall_and_cpu(lambda: _bare_tools(Path(tmp), kube_versions)))
    bare, bare_cpu = min(times[BARE])
    calls = (f"kubectl kustomize x{overlays}, helm template x{len(profiles) - overlays}, "
             f"kubeconform x{len(kube_versions)}")
    measures = [Measure(f"{BARE} ({calls}), wall, best of {repeat}", bare, "s"),
                Measure(f"{BARE}, CPU of that run", bare_cpu, "s")]
    for name in commands:
        wall, cpu = min(times[name])
        measures += [
            Measure(f"`{name}` as typed, warm, wall, best of {repeat}", wall, "s", baseline=bare, baseline_name=BARE,
                    goal=TYPED_GOAL_SECONDS, ratio_goal=TYPED_GOAL_RATIO),
            Measure(f"`{name}` as typed, CPU of that run", cpu, "s", baseline=bare_cpu, baseline_name=BARE,
                    ratio_goal=TYPED_GOAL_RATIO),
        ]
    return measures


def cold_and_warm(repeat: int) -> list[Measure]:
    """Validate cold (empty schema cache and build dir; pinned binaries already built) and warm, and how it grows."""
    profiles = [profile.name for profile in all_profiles()]
    versions = schemas.kubernetes_versions()
    label = f"{len(profiles)} profiles x {len(versions)} versions"
    with tempfile.TemporaryDirectory(prefix="kz-bench-validate-") as tmp:
        cache, build = Path(tmp) / "cache", Path(tmp) / "build"
        (cache / "bin").mkdir(parents=True)
        for tool in ("kubeconform", "helm"):  # reuse the built binaries: cold means no schemas, no renders
            binary = Path(toolcache.ensure(tool))
            shutil.copytree(binary.parent, cache / "bin" / binary.parent.name, dirs_exist_ok=True)
        with progress.step(f"validate cold, {label}", note="empty schema cache and build directory"):
            cold = timing.seconds(lambda: _validate(cache, build))
        with progress.step(f"validate warm, {label}, best of {repeat}"):
            warm = timing.best(repeat, lambda: _validate(cache, build))
        with progress.step(f"validate warm, {len(profiles)} profiles x 1 version, best of {repeat}"):
            one_version = timing.best(repeat, lambda: _validate(cache, build, "--kube-versions", versions[-1]))
        with progress.step(f"validate warm, 1 profile x {len(versions)} versions, best of {repeat}"):
            one_profile = timing.best(repeat, lambda: _validate(cache, build, profiles[0]))
    return [
        Measure(f"validate cold ({label})", cold, "s"),
        Measure(f"validate warm ({label}, best of {repeat})", warm, "s"),
        Measure(f"validate warm ({len(profiles)} profiles x 1 version, best of {repeat})", one_version, "s"),
        Measure(f"validate warm (1 profile x {len(versions)} versions, best of {repeat})", one_profile, "s"),
    ]


def run(options: Options) -> list[Measure]:
    repeat = options.times(REPEAT)
    return typed(repeat) + cold_and_warm(repeat)
