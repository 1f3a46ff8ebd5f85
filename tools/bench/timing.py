"""The timing helpers every section uses: wall and CPU time of an action, best and median of repeats, ratios, the
load average. Wall times move with the machine's load far more than CPU seconds do, so sections report both where a
child process does the work."""

from __future__ import annotations

import os
import resource
import statistics
from collections.abc import Callable, Sequence
from time import perf_counter


def seconds(action: Callable[[], object]) -> float:
    """Wall seconds of one call of action."""
    start = perf_counter()
    action()
    return perf_counter() - start


def repeated(runs: int, action: Callable[[], object]) -> list[float]:
    """Wall seconds of each of `runs` calls of action, in order."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1, not {runs}")
    return [seconds(action) for _ in range(runs)]


def best(runs: int, action: Callable[[], object]) -> float:
    """The fastest of `runs` calls: the least disturbed by other work on the machine."""
    return min(repeated(runs, action))


def median(values: Sequence[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count)."""
    if not values:
        raise ValueError("the median of no values")
    return statistics.median(values)


def ratio(value: float, baseline: float) -> float:
    """value / baseline: 1.5 means half as slow again as the baseline."""
    if baseline <= 0:
        raise ValueError(f"a baseline must be positive, not {baseline}")
    return value / baseline


def wall_and_cpu(action: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child processes that ended meanwhile) of one call of action."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = seconds(action)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def load_average() -> tuple[float, float, float]:
    """The load average over 1, 5 and 15 minutes."""
    return os.getloadavg()
