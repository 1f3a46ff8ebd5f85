"""tools/bench/__main__.py: the section table, the command line (a bad one is one error line and a non-zero exit,
never a traceback) and the runner that prints each section and keeps its JSON."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from tools import REPO_ROOT
from tools.base import progress
from tools.base.errors import UserError
from tools.bench import __main__ as bench
from tools.bench.measure import Measure, Options

NAMES = [section.name for section in bench.SECTIONS]


def bench_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.bench", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)


def test_the_table_lists_each_section_once_in_the_order_they_run():
    assert NAMES == ["validate", "policy", "image", "smoke", "cluster", "real-node"]


@pytest.mark.parametrize("section", bench.SECTIONS, ids=NAMES)
def test_each_section_is_a_module_of_the_package_with_one_run_entry_point(section):
    assert section.module.startswith("tools.bench.")
    assert (REPO_ROOT / Path(*section.module.split("."))).with_suffix(".py").is_file()
    run = bench.load(section)
    assert list(inspect.signature(run).parameters) == ["options"]
    assert section.measures


@pytest.mark.parametrize("section", NAMES)
def test_the_benchmarks_page_describes_each_section(section):
    page = (REPO_ROOT / "docs" / "development" / "benchmarks.md").read_text()
    assert re.search(rf"^\| `{re.escape(section)}` \|", page, re.MULTILINE), f"benchmarks.md has no row for {section}"


def test_no_section_named_runs_them_all_in_order():
    chosen, options, json_path = bench.parse([])
    assert [section.name for section in chosen] == NAMES
    assert options == Options() and json_path is None


def test_named_sections_run_in_the_tables_order_once_each():
    chosen, options, json_path = bench.parse(["policy", "validate", "policy", "--repeat", "2", "--json", "out.json"])
    assert [section.name for section in chosen] == ["validate", "policy"]
    assert options.repeat == 2 and json_path == Path("out.json")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope"], r"unknown bench section 'nope'; known: validate, policy, image, smoke, cluster, real-node"),
        (["policy", "typo", "other"], r"unknown bench section 'typo', 'other'"),
        (["--repeat", "0"], r"--repeat: 0 is not at least 1"),
        (["--repeat", "two"], r"--repeat: 'two' is not a whole number"),
        (["--json"], r"--json: expected one argument"),
        (["--fast"], r"unrecognized arguments: --fast"),
    ],
)
def test_a_bad_command_line_is_a_usage_error(argv, message):
    with pytest.raises(bench.UsageError, match=message) as caught:
        bench.parse(argv)
    assert caught.value.exit_code == 2


BAD_COMMAND_LINES = {"unknown section": ["nope"], "bad repeat": ["policy", "--repeat", "0"],
                     "unwritable json": ["--json", "/no/such/dir/bench.json", "policy"]}


@pytest.mark.parametrize("argv", BAD_COMMAND_LINES.values(), ids=BAD_COMMAND_LINES)
def test_a_bad_command_line_is_one_error_line_without_a_traceback(argv):
    result = bench_cli(*argv)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_section():
    result = bench_cli("--help")
    assert result.returncode == 0
    for name in NAMES:
        assert re.search(rf"^  {re.escape(name)} ", result.stdout, re.MULTILINE), result.stdout


@pytest.fixture
def fake_sections(monkeypatch):
    """Two sections of a fake module: `first` measures, `broken` fails as a section fails (a UserError)."""
    module = types.ModuleType("kz_fake_bench_section")
    seen: list[Options] = []

    def run(options: Options) -> list[Measure]:
        seen.append(options)
        if len(seen) == 2:
            raise UserError("the second section broke")
        return [Measure("a measure", 1.25, "s", goal=2.0)]

    module.run = run
    module.seen = seen
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module, [bench.Section("first", module.__name__, "one measure"),
                    bench.Section("broken", module.__name__, "fails")]


def test_the_runner_prints_each_section_and_a_failed_one_keeps_what_was_measured(fake_sections, tmp_path, capsys):
    module, sections = fake_sections
    lines: list[str] = []
    previous = progress.set_sink(lines.append)
    try:
        code = bench.main(["--repeat", "1", "--json", str(tmp_path / "bench.json")], sections=sections)
    finally:
        progress.set_sink(previous)
    out, err = capsys.readouterr()
    assert code == 1 and err == "error: the second section broke\n"
    assert [options.repeat for options in module.seen] == [1, 1]
    assert out.startswith("## first (") and "| a measure | 1.25 s |  | <= 2 s: meets |" in out
    assert "## broken" not in out
    data = json.loads((tmp_path / "bench.json").read_text())
    assert [section["section"] for section in data["sections"]] == ["first"]
    assert data["sections"][0]["measures"][0]["value"] == 1.25
    assert lines[0] == "==> bench first (one measure) ..." and lines[1].startswith("==> bench first: done in ")
    assert lines[-1].startswith("==> bench broken: failed after ")


def test_a_section_whose_module_is_missing_is_a_user_error():
    with pytest.raises(UserError, match="bench section gone is not available"):
        bench.load(bench.Section("gone", "tools.bench.no_such_section", ""))
