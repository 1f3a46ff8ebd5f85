"""The one printer of `nox -s bench`: each section's measures as a Markdown table on stdout as soon as the section
ends, and all of them as JSON (`--json FILE`), rewritten after each section so a failed run keeps what it measured.

The JSON: {"machine": {"cpus", "system", "python"}, "started": ISO time, "sections": [{"section", "seconds",
"load_average": {"start": [1, 5, 15 min], "end": [...]}, "measures": [Measure.as_dict(), ...]}]}.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from tools.base import progress
from tools.bench.measure import Measure

HEADER = "| measure | value | compared with | goal |\n|---|---|---|---|"


@dataclass(frozen=True)
class SectionResult:
    section: str
    measures: list[Measure]
    seconds: float
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float]

    def as_dict(self) -> dict:
        return {
            "section": self.section,
            "seconds": self.seconds,
            "load_average": {"start": list(self.load_start), "end": list(self.load_end)},
            "measures": [measure.as_dict() for measure in self.measures],
        }


def number(value: float) -> str:
    """Three significant digits or so: 0.123, 2.45, 12.3, 456; whole numbers as they are."""
    if float(value).is_integer():
        return str(int(value))
    size = abs(value)
    digits = 3 if size < 1 else 2 if size < 10 else 1 if size < 100 else 0
    return f"{value:.{digits}f}"


def quantity(value: float, unit: str) -> str:
    return f"{number(value)} {unit}" if unit else number(value)


def compared(measure: Measure) -> str:
    if measure.baseline is None:
        return ""
    return f"{measure.ratio:.2f}x {measure.baseline_name} ({quantity(measure.baseline, measure.unit)})"


def goal(measure: Measure) -> str:
    bounds = []
    if measure.goal is not None:
        bounds.append(f"<= {measure.goal:g}" + (f" {measure.unit}" if measure.unit else ""))
    if measure.ratio_goal is not None:
        bounds.append(f"<= {measure.ratio_goal:g}x")
    if not bounds:
        return ""
    return f"{', '.join(bounds)}: {'meets' if measure.meets else 'misses'}"


def row(measure: Measure) -> str:
    name = f"{measure.name} ({measure.note})" if measure.note else measure.name
    cells = [name, quantity(measure.value, measure.unit), compared(measure), goal(measure)]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.1f}" for value in values)


def table(result: SectionResult) -> str:
    """One section as a heading and a Markdown table."""
    took, start, end = progress.elapsed(result.seconds), load(result.load_start), load(result.load_end)
    heading = f"## {result.section} ({took}; load average {start} at start, {end} at end)"
    return "\n".join([heading, "", HEADER, *map(row, result.measures), ""])


def nested(line: str) -> None:
    """A progress line of what a section runs (a scenario's steps, a cluster's start), indented under the section's."""
    progress.say(f"    {line}")


def machine() -> dict:
    return {"cpus": os.cpu_count(), "system": f"{platform.system()} {platform.release()} {platform.machine()}",
            "python": platform.python_version()}


@dataclass
class Report:
    """The sections measured so far: printed one by one to `out`, kept as JSON in `json_path` when one is given."""

    out: TextIO
    json_path: Path | None = None
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    results: list[SectionResult] = field(default_factory=list)

    def add(self, result: SectionResult) -> None:
        self.results.append(result)
        print(table(result), file=self.out, flush=True)
        self.save()

    def save(self) -> None:
        """Write the JSON file (when there is one) with the sections measured so far."""
        if self.json_path is not None:
            self.json_path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def as_dict(self) -> dict:
        return {"machine": machine(), "started": self.started,
                "sections": [result.as_dict() for result in self.results]}
