"""Build the ZooKeeper image: `python -m tools.image [--no-cache] [--tag TAG]` (= `nox -s image`); --save and
--push put it where kind, minikube, docker or a registry can use it (tools/image/build.py does the work)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tools.base import progress
from tools.base.errors import UserError, cli
from tools.base.run import CommandError
from tools.cli.engine import Engine
from tools.image.build import ARCHIVE, TAG, build, next_steps


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s image --", description=__doc__.splitlines()[0])
    parser.add_argument("--tag", default=TAG, help=f"image tag (default {TAG})")
    parser.add_argument("--no-cache", action="store_true", help="rebuild every layer")
    parser.add_argument("--update-lock", action="store_true", help="rewrite image/jars.sha256 from the fetched jars")
    parser.add_argument("--save", metavar="PATH", type=Path,
                        help=f"also write the image as a docker-archive tar (e.g. {ARCHIVE}) for kind load "
                             "image-archive, minikube image load or docker load -i")
    parser.add_argument("--push", metavar="REGISTRY",
                        help="also tag the image as REGISTRY/<name>:<tag> and push it with the engine")
    args = parser.parse_args(argv)
    if args.save is not None and (args.save.is_dir() or not args.save.name.endswith(".tar")):
        raise UserError(f"--save {args.save}: expected a file path ending in .tar, e.g. {ARCHIVE}")
    engine = Engine.detect()
    seconds = build(engine, args.tag, no_cache=args.no_cache, update_lock=args.update_lock)
    size = engine.image_size(args.tag)
    print(f"built {args.tag} with {engine.name} in {seconds:.1f} s; size {size / 1024 / 1024:.0f} MiB")
    if args.save is not None:
        with progress.step(f"saving {args.tag} to {args.save}"):
            engine.save(args.tag, args.save)
    pushed = None
    if args.push:
        with progress.step(f"pushing {args.tag} to {args.push}"):
            try:
                pushed = engine.push(args.tag, args.push)
            except CommandError as exc:
                output = (exc.result.stderr or exc.result.stdout).strip().splitlines()
                raise UserError(f"--push {args.push}: {engine.name} push failed: "
                                f"{output[-1] if output else f'exit {exc.result.code}'}") from None
    print("\n".join(next_steps(engine, args.tag, args.save, pushed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
