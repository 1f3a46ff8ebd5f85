"""The chart's values table in chart/README.md: keys and comments from chart/values.yaml, types from
values.schema.json.

Every key in values.yaml must have a comment right above it that starts with `<key>:`; the text after it is the key's
description. `python -m tools.render.values_table` prints the table, `--write` puts it between chart/README.md's
`<!-- values-table:begin -->` and `<!-- values-table:end -->` markers, `--check` exits 1 when that table is not the
generated one (`nox -s lint -- --fix` and `nox -s lint` run these).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from tools import REPO_ROOT
from tools.base.errors import UserError, cli
from tools.render import blocks as readme_blocks
from tools.render.manifests import plain

VALUES = REPO_ROOT / "chart" / "values.yaml"
SCHEMA = REPO_ROOT / "chart" / "values.schema.json"
README = REPO_ROOT / "chart" / "README.md"
NAME = "values-table"
BEGIN, END = readme_blocks.markers(NAME)


@dataclass(frozen=True)
class Row:
    key: str  # dotted path
    type: str
    default: object
    description: str


def _load_values(path: Path) -> tuple[CommentedMap, list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise UserError(f"{path}: YAML error: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, CommentedMap):
        raise UserError(f"{path}: expected a mapping of values at the top level")
    return data, text.splitlines()


def _comment_above(lines: list[str], line_index: int) -> list[str]:
    """The block of `#` lines directly above line_index (0-based), without the `#`."""
    block = []
    index = line_index - 1
    while index >= 0 and lines[index].lstrip().startswith("#"):
        block.insert(0, lines[index].lstrip()[1:].strip())
        index -= 1
    return block


def _schema_type(schema: dict, node: dict | None) -> str:
    while node and "$ref" in node:
        node = schema.get("definitions", {}).get(node["$ref"].rsplit("/", 1)[-1])
    if not node:
        return ""
    if "enum" in node:
        choices = [f"`{v}`" for v in node["enum"]]
        return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else choices[0]
    kind = node.get("type", "")
    return " or ".join(kind) if isinstance(kind, list) else kind


def _python_type(value: object) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            type(None): "null"}.get(type(value), "object")


def rows(values_path: Path = VALUES, schema_path: Path = SCHEMA) -> list[Row]:
    """One row per leaf key; UserError (file:line) for any key whose comment is missing or not `<key>: ...`."""
    data, lines = _load_values(values_path)
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8")) if schema_path.exists() else {}
    except json.JSONDecodeError as exc:
        raise UserError(f"{schema_path}:{exc.lineno}: JSON error: {exc.msg}") from None
    out: list[Row] = []
    errors: list[str] = []

    def walk(mapping: CommentedMap, prefix: str, schema_node: dict | None) -> None:
        for key, value in mapping.items():
            dotted = f"{prefix}{key}"
            line_index = mapping.lc.key(key)[0]
            comment = _comment_above(lines, line_index)
            if not comment or not comment[0].startswith(f"{key}:"):
                errors.append(f"{values_path}:{line_index + 1}: {dotted} needs a comment right above it that "
                              f"starts with '{key}:'")
                description = ""
            else:
                description = " ".join([comment[0][len(key) + 1:].strip(), *comment[1:]]).strip()
            child_schema = ((schema_node or {}).get("properties") or {}).get(key)
            if isinstance(value, CommentedMap) and value:
                walk(value, f"{dotted}.", child_schema)
            else:
                kind = _schema_type(schema, child_schema) or _python_type(value)
                out.append(Row(dotted, kind, plain(value), description))

    walk(data, "", schema)
    if errors:
        raise UserError("\n".join(errors))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(values_path: Path = VALUES, schema_path: Path = SCHEMA) -> str:
    """The markdown table, one line per leaf key, in values.yaml's order."""
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for row in rows(values_path, schema_path):
        default = f"`{_cell(json.dumps(row.default))}`"
        lines.append(f"| `{row.key}` | {_cell(row.type)} | {default} | {_cell(row.description)} |")
    return "\n".join(lines)


def readme_block(readme: Path = README) -> str:
    """The table currently between chart/README.md's markers (stripped)."""
    return readme_blocks.block(NAME, readme)


def write_readme(generated: str, readme: Path = README) -> bool:
    """Put the table between the markers (atomically); True when the file changed."""
    return readme_blocks.write_block(NAME, generated, readme)


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="values_table", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 when chart/README.md's table is out of date")
    mode.add_argument("--write", action="store_true", help="update chart/README.md's table in place")
    parser.add_argument("--values", type=Path, default=VALUES)
    parser.add_argument("--schema", type=Path, default=SCHEMA)
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    generated = table(args.values, args.schema)
    if args.check:
        if readme_block(args.readme) != generated.strip():
            raise UserError(f"{args.readme}: the values table is out of date with {args.values}; "
                            "run `nox -s lint -- --fix`")
        print(f"{args.readme}: values table up to date")
    elif args.write:
        changed = write_readme(generated, args.readme)
        print(f"{args.readme}: values table {'updated' if changed else 'already up to date'}")
    else:
        print(generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
