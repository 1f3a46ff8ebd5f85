"""Layer 2, rendering: every profile to build/<profile>.yaml, all of them or none (nothing half-written on failure),
and what reads or writes rendered and generated text (manifests, schemas, crds, blocks, values_table). May import
tools.base and tools.cli.

    render(profile)            # one profile's manifests as one multi-document YAML string
    render_all(profiles)       # every profile into BUILD_DIR (`python -m tools.render` is the CLI)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools import REPO_ROOT
from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.base.run import CommandError
from tools.base.yamlfile import check_syntax
from tools.cli.helm import Helm
from tools.cli.kubectl import Kubectl

BUILD_DIR = REPO_ROOT / "build"
HELM_RELEASE = "zk"


def render(profile: Profile) -> str:
    """The profile's manifests as one multi-document YAML string."""
    try:
        if profile.source == "overlay":
            check_syntax([profile.root / "base", profile.root / "components", profile.path])
            return Kubectl().kustomize(profile.path)
        values = [] if profile.env == "default" else [profile.path]
        check_syntax(values)
        return Helm().template(profile.root / "chart", release=HELM_RELEASE, values=values)
    except CommandError as exc:
        output = (exc.result.stderr or exc.result.stdout).strip()
        raise UserError(f"{profile.name}: rendering {profile.path} failed:\n{output}") from None


def output_path(profile: Profile, build_dir: Path = BUILD_DIR) -> Path:
    return build_dir / f"{profile.name}.yaml"


def render_all(profiles: list[Profile], build_dir: Path = BUILD_DIR) -> dict[Profile, Path]:
    """Render every profile first, then move the files into place; on any failure build_dir is untouched."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        rendered = dict(zip(profiles, pool.map(render, profiles), strict=True))
    build_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".render-", dir=build_dir))
    try:
        for profile, text in rendered.items():
            (staging / f"{profile.name}.yaml").write_text(text)
        paths = {}
        for profile in rendered:
            target = output_path(profile, build_dir)
            os.replace(staging / target.name, target)
            paths[profile] = target
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)

