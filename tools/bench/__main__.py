"""`nox -s bench`: wall times and sizes, printed as a table. Sections: typed (`nox -s validate` as a user types it,
against the bare tools), validate, policy, image, smoke, cluster, real-node."""

from __future__ import annotations

import argparse
import importlib

from tools.base.errors import UserError, cli

SECTIONS = {
    "typed": "tools.bench.validate:typed_bench",
    "validate": "tools.bench.validate:validate_bench",
    "policy": "tools.bench.policy:run",
    "image": "tools.bench.image:run",
    "smoke": "tools.bench.smoke:run",
    "cluster": "tools.bench.cluster:run",
    "real-node": "tools.bench.cluster:real_node_run",
}


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
