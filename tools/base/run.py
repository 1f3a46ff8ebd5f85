"""The one way this toolchain runs an external command."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools.base.errors import ToolMissing, UserError


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


class CommandError(UserError):
    """A command exited non-zero; the text shows the command, the code and both outputs."""

    def __init__(self, cmd: list[str], result: Result):
        self.cmd = cmd
        self.result = result
        parts = [f"command failed (exit {result.code}): {shlex.join(cmd)}"]
        if result.stdout.strip():
            parts.append("stdout:\n" + result.stdout.rstrip())
        if result.stderr.strip():
            parts.append("stderr:\n" + result.stderr.rstrip())
        super().__init__("\n".join(parts))


def which(program: str, hint: str) -> str:
    """The path of `program`, or ToolMissing with a one-line hint on how to get it."""
    found = shutil.which(program)
    if not found:
        raise ToolMissing(f"{program} not found on PATH; {hint}")
    return found


def run(
    cmd: list[str | os.PathLike],
    *,
    check: bool = True,
    input: str | None = None,
    timeout: float | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run cmd, capture text output; raise CommandError on a non-zero exit when check is true."""
    argv = [os.fspath(c) for c in cmd]
    try:
        proc = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env=None if env is None else {**os.environ, **env},
            check=False,
        )
    except FileNotFoundError as exc:
        raise ToolMissing(f"{argv[0]} not found: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"command timed out after {timeout} s: {shlex.join(argv)}") from None
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    if check and result.code != 0:
        raise CommandError(argv, result)
    return result
