"""User-facing errors: one readable, located message and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable


class UserError(Exception):
    """Something the user can fix; the message says what and where (file, object, field)."""

    exit_code = 1


class ToolMissing(UserError):
    """An external program is absent; the message is one line on how to get it."""

    exit_code = 127


def cli(main: Callable[..., int | None]) -> Callable[..., int]:
    """Wrap a CLI entry point: UserError -> 'error: ...' on stderr and its exit code."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs) or 0
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            return 130

    return wrapper
