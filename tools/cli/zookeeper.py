"""ZooKeeper's own CLI surface: what smoke and the image's ensemble run inside a member, and how they read the
answers (four-letter words, zkCli.sh, parsing srvr, mntr and conf)."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from tools.base.contract import CLIENT_PORT, METRICS_SCRIPT

NOT_SERVING = "not currently serving requests"

# A four-letter word over bash's /dev/tcp: the image needs no nc, and the reply is read until the server closes.
_FOUR_LETTER_SCRIPT = 'exec 3<>"/dev/tcp/127.0.0.1/$2" && printf %s "$1" >&3 && timeout 5 cat <&3'


def four_letter_argv(word: str, port: int = CLIENT_PORT) -> list[str]:
    """argv that prints the member's answer to `word` (ruok, srvr, mntr)."""
    return ["bash", "-c", _FOUR_LETTER_SCRIPT, "four-letter", word, str(port)]


def metrics_argv(port: int = CLIENT_PORT) -> list[str]:
    """The image's `metrics.sh PORT` (mntr), as the tutorial runs it."""
    return [METRICS_SCRIPT, str(port)]


def zkcli_argv(*command: str, timeout_seconds: int, port: int = CLIENT_PORT) -> list[str]:
    """A fresh `zkCli.sh` process running one command against the member itself, killed after timeout_seconds.

    A fresh process never keeps a session that could apply a refused write after the quorum returns.
    """
    session_ms = max(4000, (timeout_seconds - 5) * 1000)  # the client gives up on its own before `timeout` kills it
    return [
        "timeout",
        str(timeout_seconds),
        "zkCli.sh",
        "-timeout",
        str(session_ms),
        "-server",
        f"127.0.0.1:{port}",
        *command,
    ]


@dataclass(frozen=True)
class MemberState:
    """One member's answer to `srvr`: its mode, or why it has none."""

    member: int
    mode: str  # leader, follower, observer, standalone, not-serving, down
    zxid: str = ""
    detail: str = ""

    @property
    def serving(self) -> bool:
        return self.mode in ("leader", "follower", "observer", "standalone")


def parse_srvr(member: int, code: int, text: str) -> MemberState:
    """The member's state from `srvr` output (code = exit code of the command that fetched it)."""
    mode = re.search(r"^Mode:\s*(\S+)", text, re.MULTILINE)
    if mode:
        zxid = re.search(r"^Zxid:\s*(\S+)", text, re.MULTILINE)
        return MemberState(member, mode.group(1), zxid.group(1) if zxid else "")
    if NOT_SERVING in text:
        return MemberState(member, "not-serving")
    return MemberState(member, "down", detail=last_line(text) or f"exit {code}")


def parse_mntr(text: str) -> dict[str, str]:
    """`mntr` as key -> value (tab-separated lines)."""
    pairs = (line.split("\t", 1) for line in text.splitlines() if "\t" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def as_number(text: str) -> float | None:
    """mntr values: ZooKeeper 3.8 prints gauges as integers, 3.9 as doubles ("2.0")."""
    try:
        return float(text)
    except ValueError:
        return None


def zkcli_value(stdout: str) -> list[str]:
    """The lines zkCli.sh printed that can be a node's value (not its connection chatter or log lines)."""
    noise = ("Connecting to ", "WATCHER::", "WatchedEvent ", "Welcome to ZooKeeper", "JLine support")
    lines = [line.strip() for line in stdout.splitlines()]
    return [line for line in lines if line and not line.startswith(noise)]


def client_error(stdout: str, stderr: str) -> str:
    """The line of zkCli.sh's output that says why a command failed (e.g. `KeeperErrorCode = ConnectionLoss ...`)."""
    lines = [line.strip() for line in (stderr + "\n" + stdout).splitlines() if line.strip()]
    for wanted in ("KeeperErrorCode", "Node does not exist", "Exception:"):
        found = [line for line in lines if wanted in line]
        if found:
            return found[0]
    useful = [line for line in lines if "Exiting JVM" not in line and not line.startswith("at ")]
    return useful[-1] if useful else "no output"


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def four_letter_at(address: str, word: str, port: int = CLIENT_PORT, timeout: float = 3.0) -> str:
    """A four-letter word sent from the host to a member the run created; empty when it cannot be asked."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.sendall(word.encode())
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class Membership:
    """The voting set a member reports in `conf` (its `server.N` lines and `version=`)."""

    voters: frozenset[int]
    observers: frozenset[int]
    version: str

    def describe(self) -> str:
        ids = ",".join(map(str, sorted(self.voters)))
        return f"voters {{{ids}}} version {self.version}" + (f" observers {sorted(self.observers)}" if self.observers
                                                              else "")


def parse_conf(text: str) -> Membership | None:
    """The membership in a `conf` reply; None when it has none (not serving, or conf not whitelisted)."""
    voters, observers, weightless, version = set(), set(), set(), None
    for line in text.splitlines():
        if match := re.match(r"^server\.(\d+)=([^;]*)", line):
            fields = match.group(2).split(":")
            role = fields[3] if len(fields) >= 4 else "participant"
            (observers if role == "observer" else voters).add(int(match.group(1)))
        elif match := re.match(r"^weight\.(\d+)=0\s*$", line):
            weightless.add(int(match.group(1)))  # a joining member's own view: it follows but does not vote
        elif line.startswith("version="):
            version = line.removeprefix("version=").strip()
    if version is None:
        return None
    return Membership(frozenset(voters - weightless), frozenset(observers), version)


def epoch(zxid: str) -> int | None:
    """The leader epoch in a zxid (`0x500000003` -> 5): it grows by one with every leader elected."""
    try:
        return int(zxid, 16) >> 32
    except ValueError:
        return None
