"""Reading YAML files with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import yaml

from tools.base.errors import UserError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader when PyYAML has it: ~10x faster


def load_all(path: Path) -> list:
    """Every document in a YAML file; a syntax error is a UserError `file:line:column: ...`."""
    try:
        return list(yaml.load_all(path.read_text(), Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise UserError(f"{where}: YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: YAML error: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None


def check_syntax(paths: list[Path]) -> None:
    """Load these YAML files, and every *.yaml / *.yml under these directories, so a syntax error is reported
    with its line before a tool that would not say where it is."""
    for path in paths:
        files = [path] if path.is_file() else sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")])
        for file in files:
            load_all(file)
