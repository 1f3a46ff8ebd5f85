"""`nox -s bench -- [SECTION ...] [--repeat N] [--json FILE]`: wall times, CPU seconds and sizes, one Markdown table
per section on stdout, progress on stderr, and with --json all measures as data.

SECTIONS is the table of sections, in the order they run. Each is a module of this package with one entry point,
`run(options: Options) -> list[Measure]`, imported only when its section runs (the image and cluster sections need
a container engine or built binaries that the others do not)."""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.base import progress
from tools.base.errors import UserError, cli
from tools.bench import timing
from tools.bench.measure import Measure, Options
from tools.bench.report import Report, SectionResult


@dataclass(frozen=True)
class Section:
    name: str
    module: str  # a module of tools.bench with run(options) -> list[Measure]
    measures: str  # what it measures, for --help and the docs


SECTIONS = (
    Section("validate", "tools.bench.validate",
            "`nox -s validate` as typed, warm, against the bare kubectl, helm and kubeconform calls it makes, timed in "
            "the same go; then validate cold and warm as profiles and Kubernetes versions grow"),
    Section("policy", "tools.bench.policy",
            "parsing the rendered profiles, the policy pass over them, tracing a finding to its source"),
    Section("image", "tools.bench.image",
            "the image build cold and warm, its size, start to a serving quorum, RSS, probe reliability"),
    Section("smoke", "tools.bench.smoke", "one local scenario run and the ensemble's recovery at each fault"),
    Section("cluster", "tools.bench.cluster",
            "a fresh control plane's start, every profile's scenario on it, its RAM"),
    Section("real-node", "tools.bench.real_node",
            "the real node's start, overlay kind to three Ready members on it, its RAM"),
)


class UsageError(UserError):
    """A bad command line: one line on stderr and exit 2, as argparse does, without its usage text."""

    exit_code = 2


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{message} (nox -s bench -- --help)")


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def parse(argv: Sequence[str] | None,
          sections: Sequence[Section] = SECTIONS) -> tuple[list[Section], Options, Path | None]:
    """The sections to run (in the table's order; all without any named), the options, the JSON path."""
    listing = "\n".join(textwrap.fill(section.measures, 110, initial_indent=f"  {section.name:11}",
                                       subsequent_indent=" " * 13) for section in sections)
    parser = Parser(prog="nox -s bench --", description=__doc__.split("\n\n")[0],
                    epilog=f"sections, in the order they run:\n{listing}",
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", metavar="SECTION", help="sections to run (default: all)")
    parser.add_argument("--repeat", type=positive, metavar="N",
                        help="repeat each timed measurement N times instead of each section's own count")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every measure to FILE as JSON")
    args = parser.parse_args(argv)
    known = {section.name: section for section in sections}
    unknown = [name for name in args.sections if name not in known]
    if unknown:
        raise UsageError(f"unknown bench section {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    chosen = [section for section in sections if not args.sections or section.name in args.sections]
    return chosen, Options(repeat=args.repeat), args.json


def load(section: Section):
    """The section's run(options) -> list[Measure]."""
    try:
        module = importlib.import_module(section.module)
    except ModuleNotFoundError as exc:
        raise UserError(f"bench section {section.name} is not available: {exc}") from None
    return module.run


def run_section(section: Section, options: Options) -> SectionResult:
    start = timing.load_average()
    entry = load(section)
    measures: list[Measure] = []
    with progress.step(f"bench {section.name}", note=section.measures, heartbeat=300):
        wall = timing.seconds(lambda: measures.extend(entry(options)))
    return SectionResult(section.name, measures, wall, start, timing.load_average())


@cli
def main(argv: Sequence[str] | None = None, sections: Sequence[Section] = SECTIONS) -> int:
    chosen, options, json_path = parse(argv, sections)
    report = Report(sys.stdout, json_path)
    try:
        report.save()
    except OSError as exc:
        raise UsageError(f"--json {json_path}: cannot write it: {exc.strerror}") from None
    for section in chosen:
        report.add(run_section(section, options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
