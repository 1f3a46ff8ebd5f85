"""`nox -s mutate`: apply each known mistake alone to a fresh copy of the repository; the checks must catch each one.

    python -m tools.mutate [ID ...] [--jobs N]      run all mistakes (or these), report caught / total and the time
    python -m tools.mutate --list                   the mistakes as a Markdown table
    python -m tools.mutate --write-table            put that table into docs/development/mutation.md

Exit 1 when a mistake escapes, is caught by other checks than mistakes.yaml names, or no longer applies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from tools import REPO_ROOT
from tools.base.errors import UserError, cli
from tools.mutate import TABLE_BLOCK, TABLE_DOC, Outcome, baseline, load, markdown, try_mistake, workdir
from tools.render import blocks, schemas


def _line(outcome: Outcome) -> str:
    status = "caught " if outcome.caught else "FAILED "
    found = ", ".join(outcome.catchers) or "nothing"
    text = f"{status} {outcome.mistake.id:44} {found} ({outcome.seconds:.1f} s; {outcome.checks.describe()})"
    return text if outcome.caught else f"{text}\n        {outcome.problem}"


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ids", nargs="*", help="only these mistakes (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mistakes checked at once")
    parser.add_argument("--list", action="store_true", help="print the mistakes as a Markdown table")
    parser.add_argument("--write-table", action="store_true",
                        help="put that table between the markers of docs/development/mutation.md")
    args = parser.parse_args(argv)
    mistakes = load()
    if args.list:
        print(markdown(mistakes))
        return 0
    if args.write_table:
        changed = blocks.write_block(TABLE_BLOCK, markdown(mistakes), TABLE_DOC)
        print(f"{TABLE_DOC.relative_to(REPO_ROOT)}: mistakes table {'updated' if changed else 'already up to date'}")
        return 0
    unknown = sorted(set(args.ids) - {m.id for m in mistakes})
    if unknown:
        raise UserError(f"unknown mistake {', '.join(unknown)}; `python -m tools.mutate --list` shows them")
    chosen = [m for m in mistakes if not args.ids or m.id in args.ids]
    versions = schemas.kubernetes_versions()
    kube_versions = sorted({versions[0], versions[-1]}, key=versions.index)
    work = workdir()
    started = time.monotonic()
    try:
        print(f"mutate: baseline (every check on an unedited copy, Kubernetes {', '.join(kube_versions)}), once per "
              "run...", flush=True)
        print(f"mutate: baseline passed in {baseline(kube_versions, work, chosen):.1f} s; now {len(chosen)} "
              f"mistakes, {args.jobs} at a time, each on a fresh copy with only the checks its files reach",
              flush=True)
        outcomes = []
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(try_mistake, m, kube_versions, work) for m in chosen]
            for future in as_completed(futures):
                outcomes.append(future.result())
                print(_line(outcomes[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    caught = sum(o.caught for o in outcomes)
    elapsed = time.monotonic() - started
    load_average = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"mutate: {caught}/{len(outcomes)} mistakes caught in {elapsed:.1f} s (baseline included; {args.jobs} "
          f"jobs, load average {load_average})")
    failed = [o.mistake.id for o in outcomes if not o.caught]
    if failed:
        print(f"mutate: FAILED for {', '.join(sorted(failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
