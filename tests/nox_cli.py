"""Running nox on the repository's noxfile from a test, as a user outside CI would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache

from tools import REPO_ROOT


def nox(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """nox on the repository's noxfile (without $CI, which makes nox turn missing interpreters into errors itself)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NOX_DEFAULT_VENV_BACKEND")}
    return subprocess.run([sys.executable, "-m", "nox", "--noxfile", str(REPO_ROOT / "noxfile.py"), *args],
                          capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=timeout)


@cache
def session_names() -> tuple[str, ...]:
    """Every session `nox -l` lists, default or not."""
    result = nox("--list")
    assert result.returncode == 0, result.stderr
    return tuple(re.findall(r"^[*-] (\S+) -> ", result.stdout, re.MULTILINE))
