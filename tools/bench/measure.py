"""What every section returns: a list of Measure (a name, a number, its unit, and where it has one the baseline it is
compared with and the goal it should meet), and the Options a section is run with."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tools.bench import timing


@dataclass(frozen=True)
class Options:
    """What `nox -s bench -- --repeat N` sets for every section: None keeps each section's own count."""

    repeat: int | None = None

    def times(self, default: int) -> int:
        """How many times to repeat a measurement whose section repeats it `default` times."""
        return self.repeat if self.repeat is not None else default


@dataclass(frozen=True)
class Measure:
    """One number. `baseline` is what it is compared with, in the same unit and measured in the same go (the bare
    tools for `nox -s validate` as typed); `goal` bounds the value, `ratio_goal` the value over the baseline."""

    name: str
    value: float
    unit: str  # "s", "ms", "MiB", or "" for a count
    baseline: float | None = None
    baseline_name: str = ""
    goal: float | None = None
    ratio_goal: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float) or not math.isfinite(self.value):
            raise ValueError(f"measure {self.name!r}: value {self.value!r} is not a finite number")
        if (self.baseline is None) != (not self.baseline_name):
            raise ValueError(f"measure {self.name!r}: a baseline needs both its value and its name")
        if self.baseline is not None and self.baseline <= 0:
            raise ValueError(f"measure {self.name!r}: baseline {self.baseline!r} is not positive")
        if self.ratio_goal is not None and self.baseline is None:
            raise ValueError(f"measure {self.name!r}: a ratio goal needs a baseline")

    @property
    def ratio(self) -> float | None:
        """The value over its baseline (1.3 means 30 % slower than the baseline), None without one."""
        return None if self.baseline is None else timing.ratio(self.value, self.baseline)

    @property
    def meets(self) -> bool | None:
        """Whether the value meets every goal it has; None when it has none."""
        checks = []
        if self.goal is not None:
            checks.append(self.value <= self.goal)
        if self.ratio_goal is not None:
            checks.append(self.ratio <= self.ratio_goal)
        return all(checks) if checks else None

    def as_dict(self) -> dict:
        """The measure as JSON data."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": None if self.baseline is None else {"name": self.baseline_name, "value": self.baseline},
            "ratio": self.ratio,
            "goal": self.goal,
            "ratio_goal": self.ratio_goal,
            "meets": self.meets,
            "note": self.note,
        }
