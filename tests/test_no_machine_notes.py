"""No notes about one machine in code or docs: a rule reads as a rule, not as a lab note ("root here lacks ...",
"measured here at load 5 to 9", "not served by the module proxy here"). Say what failed, not where."""

from __future__ import annotations

import re

import pytest

from tools import REPO_ROOT

# Where a note about one machine hides: "<something> here" as a place, "this machine", "this box".
MACHINE_NOTE = re.compile(
    r"\bthis (machine|box)\b"
    r"|\b(measured|served|installed|pulled|available|upstream|systemd|lacks|missing|runs|run) here\b"
    r"|\b(proxy|mirror|registry) here\b"
    r"|\broot here\b|\bno real node here\b|\bnothing (can be pulled|upstream) here\b"
    r"|\bon (this|our) (host|laptop|runner)\b",
    re.IGNORECASE,
)
SCANNED = ("tools", "image", "docs", "tests", "base", "components", "overlays", "admission", "chart", ".ci")
TOP_FILES = ("README.md", "CONTRIBUTING.md", "noxfile.py", "pyproject.toml")
SUFFIXES = {".py", ".sh", ".md", ".yaml", ".yml", ".toml", ".tpl", ".txt", ".java", ""}


def scanned_files():
    for name in TOP_FILES:
        yield REPO_ROOT / name
    for top in SCANNED:
        for path in sorted((REPO_ROOT / top).rglob("*")):
            if path.is_file() and path.suffix in SUFFIXES and "gomod" not in path.parts and path != THIS:
                yield path


THIS = REPO_ROOT / "tests" / "test_no_machine_notes.py"


def test_no_file_carries_a_note_about_one_machine():
    found = [f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
             for path in scanned_files()
             for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
             if MACHINE_NOTE.search(line)]  # fmt: skip
    assert found == [], "say what failed, not where:\n" + "\n".join(found)


@pytest.mark.parametrize("note", ["root here lacks CAP_SYS_ADMIN", "measured here at load 5 to 9",
                                  "not served by the module proxy here", "no real node here: containerd",
                                  "the disk of this machine", "nothing can be pulled here"])  # fmt: skip
def test_the_pattern_catches_the_notes_it_is_for(note):
    assert MACHINE_NOTE.search(note)


@pytest.mark.parametrize("rule", ["write the report here (atomically)", "your client pods are added here",
                                  "the version is read here", "a client on the host may use it"])  # fmt: skip
def test_the_pattern_leaves_plain_words_alone(rule):
    assert not MACHINE_NOTE.search(rule)
