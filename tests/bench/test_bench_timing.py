"""tools/bench/timing.py and measure.py: the helpers every section times with, and what a Measure accepts."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tools.bench import timing
from tools.bench.measure import Measure, Options


def test_seconds_times_one_call():
    assert 0.05 <= timing.seconds(lambda: time.sleep(0.05)) < 1


def test_repeated_times_each_call_and_best_is_the_fastest(monkeypatch):
    clock = iter([0.0, 6.0, 10.0, 11.0, 20.0, 23.0])  # three calls: 6, 1 and 3 seconds
    monkeypatch.setattr(timing, "perf_counter", lambda: next(clock))
    calls = []
    assert timing.repeated(3, lambda: calls.append(1)) == [6.0, 1.0, 3.0]
    assert len(calls) == 3
    clock = iter([0.0, 6.0, 10.0, 11.0, 20.0, 23.0])
    assert timing.best(3, lambda: None) == 1.0


def test_repeating_nothing_is_an_error():
    with pytest.raises(ValueError, match="at least 1"):
        timing.best(0, lambda: None)


@pytest.mark.parametrize(("values", "middle"), [([3.0], 3.0), ([5.0, 1.0, 3.0], 3.0), ([4.0, 1.0, 2.0, 3.0], 2.5)])
def test_median(values, middle):
    assert timing.median(values) == middle


def test_median_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        timing.median([])


def test_ratio():
    assert timing.ratio(3.0, 2.0) == 1.5
    with pytest.raises(ValueError, match="positive"):
        timing.ratio(1.0, 0.0)


def test_wall_and_cpu_counts_the_cpu_time_of_child_processes():
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    wall, cpu = timing.wall_and_cpu(lambda: subprocess.run([sys.executable, "-c", burn], check=True))
    assert cpu >= 0.25
    assert wall >= cpu * 0.5  # the child ran inside the timed call


def test_options_repeat_overrides_each_sections_own_count():
    assert Options().times(5) == 5
    assert Options(repeat=1).times(5) == 1


def test_a_measure_with_a_baseline_has_its_ratio_and_goals():
    typed = Measure("as typed", 3.0, "s", baseline=2.0, baseline_name="the bare tools", goal=5.0, ratio_goal=1.5)
    assert typed.ratio == 1.5 and typed.meets is True
    slower = Measure("as typed", 3.2, "s", baseline=2.0, baseline_name="the bare tools", goal=5.0, ratio_goal=1.5)
    assert slower.meets is False  # under 5 s, but 1.6 times the baseline
    assert Measure("parse", 0.6, "s", goal=0.5).meets is False
    assert Measure("parse", 0.6, "s").meets is None and Measure("parse", 0.6, "s").ratio is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"value": float("nan")}, "not a finite number"),
        ({"value": "1.2 s"}, "not a finite number"),
        ({"value": True}, "not a finite number"),
        ({"baseline": 2.0}, "both its value and its name"),
        ({"baseline_name": "the bare tools"}, "both its value and its name"),
        ({"baseline": 0.0, "baseline_name": "the bare tools"}, "not positive"),
        ({"ratio_goal": 1.5}, "a ratio goal needs a baseline"),
    ],
)
def test_a_measure_rejects_what_cannot_be_compared(fields, message):
    with pytest.raises(ValueError, match=message):
        Measure(**{"name": "m", "value": 1.0, "unit": "s", **fields})
