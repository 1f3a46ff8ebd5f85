"""The docs as a reader follows them: every command they show runs as shown (nox sessions exist and take the options
given, kubectl and helm subcommands take the flags given), every repository path they name exists, every relative
link resolves (its anchor too), and README.md stays a user's page of at most 15 KB.

The pages are README.md, CONTRIBUTING.md, chart/README.md, image/README.md and docs/**/*.md (tests/markdown.py).
Commands of tools that are not on PATH (kind, minikube, oc) are skipped with the reason; nothing is run
against a cluster."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.markdown import SHELL_BLOCK, anchors, docs, links, without_fences
from tests.nox_cli import session_names
from tools import REPO_ROOT
from tools.render import blocks

DOCS = docs()
README_LIMIT = 15_000  # bytes: README.md is for users; the rest lives in docs/
INLINE_NOX = re.compile(r"`((?:pipx run )?nox(?: [^`]*)?)`")
INLINE_CODE = re.compile(r"`([^`\s]+)`")
TOP_LEVEL = r"(?:admission|base|chart|components|docs|image|overlays|tests|tools|\.ci)"
REPO_PATH = re.compile(rf"^{TOP_LEVEL}/[\w./-]*$|^(?:README\.md|CONTRIBUTING\.md|LICENSE|noxfile\.py|pyproject\.toml)$")
EXTERNAL_LINK = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...


def shown(page: Path) -> str:
    return page.relative_to(REPO_ROOT).as_posix()


def shell_commands(text: str) -> list[str]:
    """The commands of the shell blocks (continuations joined, comments dropped, `a && b` split) and every inline
    `nox ...` in the prose."""
    found = []
    for block in SHELL_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words:
                end = words.index("&&") if "&&" in words else len(words)
                found.append(shlex.join(words[:end]))  # quoted again: a "$(...)" stays one word
                words = words[end + 1:]
    found += INLINE_NOX.findall(without_fences(text))
    return found


COMMANDS = sorted({(shown(page), command) for page in DOCS for command in shell_commands(page.read_text())})


def session_modules() -> dict[str, list[str]]:
    """session -> the command its body runs (`python -m tools.X` or `pytest`), read from noxfile.py."""
    text = (REPO_ROOT / "noxfile.py").read_text()
    found = {}
    for name, body in re.findall(r"^def (\w+)\(session[^\n]*\n(.*?)(?=^\S|\Z)", text, re.MULTILINE | re.DOTALL):
        runs = re.search(r'session\.run\("python", "-m", "([\w.]+)"|session\.run\("(pytest)"', body)
        if runs:
            found[name] = ["-m", runs.group(1)] if runs.group(1) else ["-m", "pytest"]
    return found


@cache
def help_text(*argv: str) -> str:
    result = subprocess.run([*argv, "--help"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 0, f"{shlex.join(argv)} --help failed: {result.stderr}"
    return result.stdout + result.stderr


def check_flags(words: list[str], help_output: str, what: str) -> None:
    """Every -x/--flag in words appears in the help; a value from a {a,b} choice list is one of them."""
    for index, word in enumerate(words):
        if not word.startswith("-") or word == "--":
            continue
        flag = word.split("=", 1)[0]
        assert re.search(rf"(?:^|[\s,\[]){re.escape(flag)}(?:[\s,=\]]|$)", help_output, re.MULTILINE), \
            f"{what} has no option {flag}"
        choices = re.search(rf"{re.escape(flag)}[ =]\{{([\w,-]+)\}}", help_output)
        value = word.split("=", 1)[1] if "=" in word else (words[index + 1] if index + 1 < len(words) else "")
        if choices and value and not value.startswith("-"):
            assert value in choices.group(1).split(","), f"{what} {flag}: {value} is not one of {choices.group(1)}"


def check_paths(words: list[str]) -> None:
    for word in words:
        if REPO_PATH.match(word):
            assert (REPO_ROOT / word).exists(), f"{word} does not exist"


def named_paths(text: str) -> list[str]:
    """Repository paths in the prose's inline code (`tools/base/run.py`, `chart/values.yaml`) and in the shell
    blocks' words; placeholders such as `overlays/<env>` are not paths."""
    found = [word for word in INLINE_CODE.findall(without_fences(text)) if REPO_PATH.match(word)]
    for command in shell_commands(text):
        found += [word for word in shlex.split(command) if REPO_PATH.match(word)]
    return sorted(set(found))


def test_the_docs_are_found():
    names = {shown(page) for page in DOCS}
    assert {"README.md", "CONTRIBUTING.md", "chart/README.md", "image/README.md", "docs/operations/runbooks.md",
            "docs/development/architecture.md"} <= names


def test_the_readme_is_a_users_page_of_at_most_15_kb():
    size = len((REPO_ROOT / "README.md").read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes, more than {README_LIMIT}: move detail into docs/"


@pytest.mark.parametrize("page", DOCS, ids=shown)
def test_the_docs_use_nox_sessions_not_python_m(page):
    assert "python -m tools" not in page.read_text(), f"{shown(page)}: use the nox session (nox -s ... -- ...)"


def test_the_quick_start_is_two_commands_that_install_nox_without_the_system_pip():
    quick_start = blocks.block("quick-start")
    (block,) = SHELL_BLOCK.findall(quick_start + "\n")
    assert shell_commands(f"```sh\n{block}```\n") == ["pipx run nox -s validate", "pipx run nox -s tests"]
    assert "pip install" not in quick_start


@pytest.mark.parametrize("page", DOCS, ids=shown)
def test_every_repository_path_named_exists(page):
    missing = [path for path in named_paths(page.read_text()) if not (REPO_ROOT / path).exists()]
    assert not missing, f"{shown(page)} names paths that do not exist: {', '.join(missing)}"


@pytest.mark.parametrize("page", DOCS, ids=shown)
def test_every_relative_link_resolves_with_its_anchor(page):
    broken = []
    for target in links(page.read_text()):
        if EXTERNAL_LINK.match(target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or not linked.is_relative_to(REPO_ROOT):
            broken.append(f"{target} (no such file in the repository)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text()):
            broken.append(f"{target} (no heading gives #{anchor})")
    assert not broken, f"{shown(page)}: broken links: {'; '.join(broken)}"


@pytest.mark.parametrize(("page", "command"), COMMANDS, ids=[f"{p}: {c}" for p, c in COMMANDS])
def test_the_command_runs_as_shown(page, command):
    words = shlex.split(command)
    if words[:2] == ["pipx", "run"]:
        words = words[2:]
    tool = words[0]
    check_paths(words)
    if tool == "nox":
        options, _, posargs = " ".join(words[1:]).partition(" -- ")
        options = options.split()
        if options[:1] in (["-s"], ["--session"]):
            session = options[1]
            assert session in session_names(), f"{page}: nox has no session {session} (nox -l)"
            if posargs:
                module = session_modules()[session]
                check_flags(posargs.split(), help_text(sys.executable, *module), f"nox -s {session} --")
        else:
            check_flags(options, help_text(sys.executable, "-m", "nox"), "nox")
        return
    if tool == "bash":  # bash SCRIPT: a script of the repository
        assert len(words) == 2 and REPO_PATH.match(words[1]), f"{page}: {command}: run a repository script"
        return
    if tool in ("kubectl", "helm", "docker"):
        if tool != "helm" and not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (not on PATH)")
        argv = [tool] if tool != "helm" else [helm_binary()]
        if "--" in words:  # kubectl exec POD -- SCRIPT: one of the image's scripts
            script = words[words.index("--") + 1]
            assert (REPO_ROOT / "image" / script).is_file(), f"the image has no {script}"
            words = words[: words.index("--")]
        sub = [w for w in words[1:4] if re.fullmatch(r"[a-z][a-z-]*", w)]
        while len(sub) > 1 and not re.search(rf"\b{tool} {' '.join(sub)}\b", help_text(*argv, *sub)):
            sub = sub[:-1]  # the longest run of words that is a subcommand (kubectl create secret generic)
        usage = help_text(*argv, *sub)
        check_flags(words[1:], usage, f"{tool} {' '.join(sub)}")
        return
    if tool in ("kind", "minikube", "oc"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (not on PATH; its commands need its cluster)")
        return
    pytest.fail(f"{page}: {command}: no check for {tool} commands; add one")


def helm_binary() -> str:
    from tools.base.errors import ToolMissing
    from tools.cli import helm

    try:
        return helm.binary()
    except ToolMissing as exc:
        pytest.skip(f"helm is not available: {exc}")
