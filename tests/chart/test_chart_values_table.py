"""chart/README.md's values table is the one generated from chart/values.yaml, and the generator notices drift."""

import shutil
import subprocess
import sys

import pytest
from chart_helpers import CHART

from tools import REPO_ROOT
from tools.base.errors import UserError
from tools.render import values_table


@pytest.fixture
def chart_copy(tmp_path):
    for name in ("values.yaml", "values.schema.json"):
        shutil.copy(CHART / name, tmp_path / name)
    shutil.copy(CHART / "README.md", tmp_path / "README.md")
    return tmp_path


def run_tool(*args):
    return subprocess.run([sys.executable, "-m", "tools.render.values_table", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=60)


def test_the_readme_table_is_the_generated_one():
    assert values_table.readme_block() == values_table.table()
    result = run_tool("--check")
    assert result.returncode == 0, result.stderr


def test_values_yaml_starts_with_the_schema_modeline_and_every_key_has_a_row():
    text = (CHART / "values.yaml").read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=values.schema.json"
    keys = [row.key for row in values_table.rows()]
    assert {"replicas", "image.tag", "resources.limits.memory", "persistence.dataLog.enabled",
            "zookeeper.fourLetterWords", "securityContext.runAsUser"} <= set(keys)
    replicas = next(row for row in values_table.rows() if row.key == "replicas")
    assert (replicas.type, replicas.default) == ("`1`, `3`, `5`, `7` or `9`", 3)
    assert replicas.description.startswith("ensemble members")


def test_a_changed_default_makes_the_check_fail(chart_copy):
    values = chart_copy / "values.yaml"
    values.write_text(values.read_text().replace("heap: 512M", "heap: 768M"))
    result = run_tool("--check", "--values", str(values), "--schema", str(chart_copy / "values.schema.json"),
                      "--readme", str(chart_copy / "README.md"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "values table is out of date" in result.stderr


def test_write_updates_only_the_block_between_the_markers(chart_copy):
    values, readme = chart_copy / "values.yaml", chart_copy / "README.md"
    values.write_text(values.read_text().replace("heap: 512M", "heap: 768M"))
    before = readme.read_text()
    result = run_tool("--write", "--values", str(values), "--schema", str(chart_copy / "values.schema.json"),
                      "--readme", str(readme))
    assert result.returncode == 0, result.stderr
    after = readme.read_text()
    assert "| `heap` | string | `\"768M\"` |" in after and "`\"512M\"`" not in after.split(values_table.BEGIN)[1]
    head, tail = before.split(values_table.BEGIN)[0], before.split(values_table.END)[1]
    assert after.startswith(head + values_table.BEGIN) and after.endswith(values_table.END + tail)


def test_a_key_without_its_comment_is_refused_with_file_and_line(chart_copy):
    values = chart_copy / "values.yaml"
    lines = values.read_text().splitlines()
    index = lines.index("  tickTime: 2000")
    del lines[index - 1]  # its comment
    values.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError) as failure:
        values_table.rows(values, chart_copy / "values.schema.json")
    assert f"{values}:{index}: zookeeper.tickTime needs a comment" in str(failure.value)


def test_a_comment_naming_another_key_is_refused(chart_copy):
    values = chart_copy / "values.yaml"
    values.write_text(values.read_text().replace("# heap: the JVM heap", "# jvmHeap: the JVM heap"))
    with pytest.raises(UserError, match=r"heap needs a comment right above it that starts with 'heap:'"):
        values_table.rows(values, chart_copy / "values.schema.json")
