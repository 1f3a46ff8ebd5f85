"""checkov, pinned (see tools/base/versions.py), in a virtual environment of its own, run offline (--skip-download)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tools.base import toolcache, versions
from tools.base.run import CommandError, run


@dataclass(frozen=True)
class Result:
    """One check on one object of one file."""

    check: str
    file: str
    resource: str  # Kind.namespace.name as checkov names it
    passed: bool


@dataclass(frozen=True)
class Checkov:
    """The pinned checkov, in a virtual environment of its own (`Checkov.pinned()` makes it once)."""

    command: tuple[str, ...]  # the argv that runs checkov

    @classmethod
    def pinned(cls) -> Checkov:
        return cls((str(toolcache.ensure_venv("checkov", versions.CHECKOV_VERSION)), "-m", "checkov.main"))

    def kubernetes(self, file: Path, checks: list[str]) -> list[Result]:
        """Run these Kubernetes checks over one file; every passed and failed result.

        One file per call: checkov's graph checks (CKV2_*) join objects across all the files of a call, so a
        NetworkPolicy in one profile would cover the pods of another."""
        cmd = [*self.command, "--skip-download", "--framework", "kubernetes", "--output", "json", "--compact",
               "--check", ",".join(checks), "--file", str(file)]
        result = run(cmd, check=False, timeout=600)
        try:
            reports = json.loads(result.stdout or "[]")
        except json.JSONDecodeError:
            raise CommandError(cmd, result) from None
        if result.code not in (0, 1):
            raise CommandError(cmd, result)
        found = []
        for report in reports if isinstance(reports, list) else [reports]:
            for passed, key in ((True, "passed_checks"), (False, "failed_checks")):
                for item in (report.get("results") or {}).get(key) or []:
                    found.append(Result(item["check_id"], item.get("file_abs_path") or item.get("file_path", ""),
                                        item.get("resource", ""), passed))
        return found
