"""tools/bench/report.py: the one printer, a Markdown table per section and the JSON of every measure."""

from __future__ import annotations

import io
import json
import re

import pytest

from tools.bench import report
from tools.bench.measure import Measure
from tools.bench.report import Report, SectionResult

TYPED = Measure("`nox -s validate` as typed, warm, wall, best of 3", 3.2, "s", baseline=2.0,
                baseline_name="the bare tools", goal=5.0, ratio_goal=1.5)
POLICY = Measure("parse + every rule", 0.1234, "s", goal=0.5)
RSS = Measure("RSS idle", 279.4, "MiB", note="kubelet 80, containerd 51")
FAILURES = Measure("probe false failures in 1000 runs", 0, "", goal=0)


def result(section: str, *measures: Measure) -> SectionResult:
    return SectionResult(section, list(measures), 83.0, (2.5, 1.5, 1.0), (3.0, 2.0, 1.2))


@pytest.mark.parametrize(("value", "shown"), [(0.1234, "0.123"), (2.456, "2.46"), (12.34, "12.3"), (279.4, "279"),
                                              (0, "0"), (1000.0, "1000"), (3.0, "3")])
def test_numbers_keep_about_three_significant_digits(value, shown):
    assert report.number(value) == shown


def test_a_row_shows_the_value_the_baseline_with_its_ratio_and_the_goals():
    assert report.row(TYPED) == ("| `nox -s validate` as typed, warm, wall, best of 3 | 3.20 s | 1.60x the bare tools "
                                 "(2 s) | <= 5 s, <= 1.5x: misses |")
    assert report.row(POLICY) == "| parse + every rule | 0.123 s |  | <= 0.5 s: meets |"
    assert report.row(RSS) == "| RSS idle (kubelet 80, containerd 51) | 279 MiB |  |  |"
    assert report.row(FAILURES) == "| probe false failures in 1000 runs | 0 |  | <= 0: meets |"


def test_a_pipe_in_a_name_does_not_split_the_row():
    cells = re.split(r"(?<!\\)\|", report.row(Measure("a | b", 1.0, "s")))[1:-1]
    assert [cell.strip() for cell in cells] == ["a \\| b", "1 s", "", ""]


def test_a_section_is_a_heading_with_its_time_and_load_then_a_table():
    lines = report.table(result("validate", TYPED, POLICY)).splitlines()
    assert lines[0] == "## validate (1m23s; load average 2.5 1.5 1.0 at start, 3.0 2.0 1.2 at end)"
    assert lines[2:4] == ["| measure | value | compared with | goal |", "|---|---|---|---|"]
    assert lines[4:6] == [report.row(TYPED), report.row(POLICY)]


def test_the_report_prints_each_section_as_it_ends_and_keeps_the_json_up_to_date(tmp_path):
    out, path = io.StringIO(), tmp_path / "bench.json"
    kept = Report(out, path)
    kept.save()
    assert json.loads(path.read_text())["sections"] == []
    kept.add(result("validate", TYPED))
    assert out.getvalue().startswith("## validate (")
    first = json.loads(path.read_text())
    assert [section["section"] for section in first["sections"]] == ["validate"]
    kept.add(result("policy", POLICY, RSS, FAILURES))
    data = json.loads(path.read_text())
    assert data["machine"]["cpus"] >= 1 and data["machine"]["python"] and data["started"]
    validate, policy = data["sections"]
    assert validate["seconds"] == 83.0
    assert validate["load_average"] == {"start": [2.5, 1.5, 1.0], "end": [3.0, 2.0, 1.2]}
    assert validate["measures"] == [{
        "name": TYPED.name, "value": 3.2, "unit": "s", "baseline": {"name": "the bare tools", "value": 2.0},
        "ratio": pytest.approx(1.6), "goal": 5.0, "ratio_goal": 1.5, "meets": False, "note": "",
    }]
    assert [m["name"] for m in policy["measures"]] == [POLICY.name, RSS.name, FAILURES.name]
    assert policy["measures"][0]["meets"] is True and policy["measures"][1]["meets"] is None
    assert "## policy (" in out.getvalue()


def test_without_a_json_path_only_the_table_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    Report(out).add(result("policy", POLICY))
    assert "| parse + every rule |" in out.getvalue()
    assert list(tmp_path.iterdir()) == []
