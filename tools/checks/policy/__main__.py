"""Check the policy rules over every rendered profile (or over given files as one profile type).

    nox -s policy -- [PROFILE ...] [--format table|json|junit] [--output FILE]
    nox -s policy -- --as production FILE.yaml|DIR [...]   (checked together, as one profile)
    nox -s policy -- --list-rules

Exit 1 on any error-level finding (warnings never fail), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tools.base.errors import UserError, cli
from tools.base.profiles import select
from tools.checks.policy import check, check_files, format_report, has_errors
from tools.checks.policy.model import PROFILE_TYPES
from tools.checks.policy.report import FORMATS
from tools.checks.policy.rules import RULES
from tools.render import BUILD_DIR, render_all


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s policy --", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help="profile names (default: all), or files with --as")
    parser.add_argument("--as", dest="as_type", choices=PROFILE_TYPES, metavar="TYPE",
                        help=f"check the given files as this profile type ({', '.join(PROFILE_TYPES)})")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--output", type=Path, help="write the report here (atomically) instead of stdout")
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR, help="where profiles are rendered")
    parser.add_argument("--no-sources", action="store_true", help="skip tracing findings to repository files")
    parser.add_argument("--list-rules", action="store_true", help="print every rule (id, severity, profiles) and exit")
    args = parser.parse_args(argv)

    if args.list_rules:
        for rule in RULES:
            print(f"{rule.id:11} {rule.severity:8} {','.join(rule.types) if rule.types else 'all':16} {rule.title}")
        return 0
    if args.as_type:
        if not args.targets:
            raise UserError("--as needs at least one manifest file")
        findings = check_files([Path(t) for t in args.targets], args.as_type)
    else:
        rendered = render_all(select(args.targets), args.build_dir)
        findings = check(rendered, trace_sources=not args.no_sources)

    report = format_report(findings, args.format)
    if args.output:
        write_atomically(args.output, report)
        print(f"policy: report written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(report)
    return 1 if has_errors(findings) else 0


if __name__ == "__main__":
    raise SystemExit(main())
