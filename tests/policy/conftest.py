"""Helpers: check a YAML text as a profile type, find the line a human would point at."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.checks.policy import check_files, check_manifests
from tools.render.manifests import load_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "policy"


def fixture_text(name: str) -> str:
    return (FIXTURES / f"{name}.yaml").read_text()


def line_number(text: str, line: str, after: str | None = None) -> int:
    """1-based number of the first line equal to `line` (after the first line containing `after`)."""
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(i for i, text_line in enumerate(lines) if after in text_line)
    return next(i + 1 for i in range(start, len(lines)) if lines[i] == line)


@pytest.fixture
def check_text(tmp_path):
    def run(text: str, profile_type: str, name: str = "manifest.yaml", source: str | None = None):
        """Findings for the text as a profile type; `source` (overlay, chart) checks it as a rendered profile."""
        path = tmp_path / name
        path.write_text(text)
        if source:
            return check_manifests(load_file(path), name, profile_type, source=source)
        return check_files([path], profile_type)

    return run
