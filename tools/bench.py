"""`nox -s bench`: wall times and sizes, printed as a table. Sections: validate, policy, image, smoke, cluster."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools import REPO_ROOT, schemas, toolcache
from tools.errors import UserError, cli
from tools.profiles import all_profiles

SECTIONS = {
    "validate": "tools.bench:validate_bench",
    "policy": "tools.policy_bench:run",
    "image": "tools.image_bench:run",
    "smoke": "tools.smoke_bench:run",
    "cluster": "tools.cluster_bench:run",
}


def _timed_validate(cache: Path, build: Path, *args: str) -> float:
    env = {**os.environ, "KZ_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO_ROOT)}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "tools.validate", "--build-dir", str(build), *args],
                            capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=900)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise UserError(f"validate failed during the benchmark:\n{result.stdout}{result.stderr}")
    return seconds


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


def _load(target: str):
    module, _, function = target.partition(":")
    try:
        return getattr(importlib.import_module(module), function)
    except ModuleNotFoundError as exc:
        raise UserError(f"benchmark section {module} is not available: {exc}") from None


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("sections", nargs="*", help=f"some of {', '.join(SECTIONS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        raise UserError(f"unknown bench section {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    rows = []
    for section in args.sections or list(SECTIONS):
        print(f"bench: {section} ...", flush=True)
        for name, value in _load(SECTIONS[section])():
            print(f"  {name:60} {value}", flush=True)
            rows.append((section, name, value))
    print("\n| section | measure | value |\n|---|---|---|")
    for section, name, value in rows:
        print(f"| {section} | {name} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
