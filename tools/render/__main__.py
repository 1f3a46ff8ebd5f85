"""`python -m tools.render [PROFILE ...] [--build-dir DIR]` (= `nox -s render`): render every profile to
build/<profile>.yaml, all of them or none (nothing half-written on failure)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tools.base.errors import cli
from tools.base.profiles import select
from tools.render import BUILD_DIR, render_all


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="render", description=__doc__)
    parser.add_argument("profiles", nargs="*", help="profile names (default: all)")
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)
    for profile, path in render_all(select(args.profiles), args.build_dir).items():
        print(f"{profile.name:22} -> {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
