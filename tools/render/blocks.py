"""The docs' generated blocks: text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` markers in a Markdown file,
written from data so that no check ever reads prose.

- The client endpoints the docs promise (docs/endpoints.yaml): block `endpoints-overlay` in README.md and
  `endpoints-chart` in README.md and chart/README.md. Policy rule ZK-SVC-003 reads the same file.
- The chart's values table (tools/render/values_table.py, in chart/README.md) and the mutation suite's table
  (tools/mutate, in docs/development/mutation.md) use the same markers through `block` and `write_block`.
- README.md's quick start sits between `quick-start` markers; it is written by hand, and tests/test_readme.py reads
  it through `block` to hold it to its two commands.

`python -m tools.render.blocks --check` exits 1 when an endpoints block is not the one the data gives, `--write`
rewrites them (`nox -s lint` and `nox -s lint -- --fix` run these).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from tools import REPO_ROOT
from tools.base.errors import UserError, cli

README = REPO_ROOT / "README.md"
CHART_README = REPO_ROOT / "chart" / "README.md"
ENDPOINTS = REPO_ROOT / "docs" / "endpoints.yaml"
SOURCES = ("overlay", "chart")


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def split(name: str, readme: Path = README) -> tuple[str, str, str]:
    """The file's text before the block (through its begin marker), the block, and the rest (from its end marker)."""
    begin, end = markers(name)
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{readme}: cannot read: {exc.strerror}") from None
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise UserError(f"{readme}: needs exactly one '{begin}' followed by one '{end}'")
    start = text.index(begin) + len(begin)
    stop = text.index(end)
    return text[:start], text[start:stop], text[stop:]


def block(name: str, readme: Path = README) -> str:
    """The text currently between the markers (stripped)."""
    return split(name, readme)[1].strip()


def write_block(name: str, generated: str, readme: Path = README) -> bool:
    """Put the text between the markers (atomically); True when the file changed."""
    before, current, after = split(name, readme)
    if current.strip() == generated.strip():
        return False
    text = f"{before}\n{generated.strip()}\n{after}"
    fd, tmp = tempfile.mkstemp(prefix=f".{readme.name}.", dir=readme.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, readme)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


# --- the client endpoints the docs promise ----------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    service: str
    port: int
    line: int  # in the endpoints file, for findings that say where the promise is written


@dataclass(frozen=True)
class Promise:
    """What the docs promise users of one source: the endpoints, and for the chart the release they assume."""

    source: str
    clients: tuple[Endpoint, ...]
    release: str | None = None


def load_endpoints(path: Path = ENDPOINTS) -> dict[str, Promise]:
    """source -> Promise; a UserError naming the file and line for anything but the expected shape."""
    try:
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    except YAMLError as exc:
        raise UserError(f"{path}: YAML error: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, CommentedMap) or set(data) != set(SOURCES):
        raise UserError(f"{path}:1: expected a mapping with exactly the keys {', '.join(SOURCES)}")
    promises = {}
    for source in SOURCES:
        entry = data[source]
        where = f"{path}:{data.lc.key(source)[0] + 1}"
        allowed = {"clients", "release"} if source == "chart" else {"clients"}
        if not isinstance(entry, CommentedMap) or not set(entry) <= allowed or "clients" not in entry:
            raise UserError(f"{where}: {source} needs clients (a list of service and port)"
                            + (" and may name the release" if source == "chart" else ""))
        clients = entry["clients"]
        if not isinstance(clients, CommentedSeq) or not clients:
            raise UserError(f"{where}: {source}.clients must be a non-empty list")
        found = []
        for index, item in enumerate(clients):
            line = clients.lc.item(index)[0] + 1
            if (not isinstance(item, CommentedMap) or set(item) != {"service", "port"}
                    or not isinstance(item["service"], str) or not isinstance(item["port"], int)
                    or isinstance(item["port"], bool)):
                raise UserError(f"{path}:{line}: each client endpoint is `service: NAME` and `port: NUMBER`")
            found.append(Endpoint(item["service"], item["port"], line))
        release = entry.get("release")
        if release is not None and not isinstance(release, str):
            raise UserError(f"{where}: {source}.release must be a string")
        promises[source] = Promise(source, tuple(found), release)
    return promises


def promised_endpoints(source: str | None, path: Path = ENDPOINTS) -> list[Endpoint]:
    """The endpoints the docs promise users of this source (overlay, chart); none for manifests checked as they are
    (source None)."""
    if source not in SOURCES:
        return []
    return list(load_endpoints(path)[source].clients)


def endpoints_text(promise: Promise) -> str:
    """The docs' one line for a source: `Clients connect to `zookeeper:2181`.`"""
    names = [f"`{e.service}:{e.port}`" for e in promise.clients]
    joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    release = f" (release `{promise.release}`)" if promise.release else ""
    return f"Clients connect to {joined}{release}."


def endpoint_blocks(path: Path = ENDPOINTS) -> list[tuple[Path, str, str]]:
    """(file, block name, generated text) for every endpoints block of the docs."""
    promises = load_endpoints(path)
    overlay, chart = endpoints_text(promises["overlay"]), endpoints_text(promises["chart"])
    return [(README, "endpoints-overlay", overlay), (README, "endpoints-chart", chart),
            (CHART_README, "endpoints-chart", chart)]


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.render.blocks", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="exit 1 when a docs block differs from the data it is generated from")
    mode.add_argument("--write", action="store_true", help="rewrite the docs' blocks from their data")
    parser.add_argument("--endpoints", type=Path, default=ENDPOINTS)
    args = parser.parse_args(argv)
    stale = []
    for readme, name, generated in endpoint_blocks(args.endpoints):
        shown = readme.relative_to(REPO_ROOT) if readme.is_relative_to(REPO_ROOT) else readme
        if args.write:
            changed = write_block(name, generated, readme)
            print(f"{shown}: {name} {'updated' if changed else 'already up to date'}")
        elif not args.check:
            print(f"{shown} {name}: {generated}")
        elif block(name, readme) != generated:
            stale.append(f"{shown}: block {name} is out of date with {args.endpoints}")
        else:
            print(f"{shown}: {name} up to date")
    if stale:
        raise UserError("\n".join(stale) + "\nrun `nox -s lint -- --fix`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
