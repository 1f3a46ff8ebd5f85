"""helm, pinned (see tools/base/versions.py) and installed on first use: one class, a method per subcommand.

    helm = Helm(kubeconfig=..., context=..., namespace=...)   # program: the pinned helm; Helm.like(kubectl)
    helm.template(chart, release="zk", values=[...], set_values=["k=v"]) -> str   # client-side, no cluster
    helm.lint(chart, values=[...], strict=True) -> Result      # never raises: the caller reads the findings
    helm.upgrade_install(release, chart, values=[...], set_values=[...], wait=True, timeout=600)
    helm.uninstall(release, timeout=120); helm.rollback(release, revision, timeout=600)
    helm.history(release) -> list; helm.get_values(release) -> dict; helm.version() -> str
    helm.cli(*args)                                            # anything else

Every method runs through tools.base.run (through `runner`, which tests replace to see the argv) and raises
CommandError on a non-zero exit unless given check=False. A method's `timeout` is helm's own `--timeout` where the
subcommand has one (the process gets 30 s more), else the process's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tools.base import toolcache
from tools.base.run import Result, run

TIMEOUT = 120
GRACE = 30


def binary() -> str:
    return toolcache.ensure("helm")


@dataclass(frozen=True)
class Helm:
    """helm for one kubeconfig, kube-context and namespace (each optional: helm's own default)."""

    program: str = ""  # empty: the pinned helm of the tool cache
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    runner: Callable[..., Result] = field(default=run, repr=False, compare=False)

    def __post_init__(self):
        if not self.program:
            object.__setattr__(self, "program", binary())

    @classmethod
    def like(cls, kubectl, program: str = "") -> Helm:
        """helm for the cluster and namespace a Kubectl talks to."""
        return cls(program, kubectl.kubeconfig, kubectl.context, kubectl.namespace)

    def with_namespace(self, namespace: str) -> Helm:
        return replace(self, namespace=namespace)

    # -- the core every method goes through ------------------------------------------------------------------------

    def argv(self, *args: str | Path, cluster: bool = True) -> list[str]:
        """`helm args... [--namespace N] [--kubeconfig K] [--kube-context C]` (only the namespace unless cluster)."""
        return [
            self.program,
            *map(str, args),
            *(["--namespace", self.namespace] if self.namespace else []),
            *(["--kubeconfig", self.kubeconfig] if self.kubeconfig and cluster else []),
            *(["--kube-context", self.context] if self.context and cluster else []),
        ]

    def cli(self, *args: str | Path, cluster: bool = True, check: bool = True, timeout: float = TIMEOUT) -> Result:
        return self.runner(self.argv(*args, cluster=cluster), check=check, timeout=timeout)

    # -- rendering -------------------------------------------------------------------------------------------------

    def template(self, chart: Path, release: str = "zk", values: Sequence[Path] = (),
                 set_values: Sequence[str] = ()) -> str:
        """`helm template RELEASE CHART -f VALUES... --set K=V...`: the rendered multi-document YAML (namespace
        `default` unless the Helm has one)."""
        helm = self if self.namespace else self.with_namespace("default")
        return helm.cli("template", release, chart, *_values(values, "-f"), *_sets(set_values), cluster=False).stdout

    def lint(self, chart: Path, values: Sequence[Path] = (), strict: bool = True) -> Result:
        return self.cli("lint", chart, *(["--strict"] if strict else []), *_values(values, "-f"), cluster=False,
                        check=False)

    def version(self) -> str:
        return self.cli("version", "--template", "{{.Version}}", cluster=False).stdout

    # -- releases --------------------------------------------------------------------------------------------------

    def upgrade_install(
        self,
        release: str,
        chart: Path,
        *,
        values: Sequence[Path] = (),
        set_values: Sequence[str] = (),
        wait: bool = False,
        timeout: int = 270,
        check: bool = True,
    ) -> Result:
        """Installs the release, or upgrades it (after its StatefulSet was deleted, recreates what is missing).
        With wait, until its resources are ready, bounded by helm's --timeout."""
        args = ["upgrade", "--install", release, chart, *_values(values, "--values"), *_sets(set_values),
                *(_wait(timeout) if wait else [])]
        return self.cli(*args, check=check, timeout=timeout + GRACE)

    def uninstall(self, release: str, timeout: int = TIMEOUT, check: bool = True) -> Result:
        return self.cli("uninstall", release, *_wait(timeout), check=check, timeout=timeout + GRACE)

    def rollback(self, release: str, revision: int, timeout: int = 600, check: bool = True) -> Result:
        return self.cli("rollback", release, str(revision), *_wait(timeout), check=check,
                        timeout=timeout + GRACE)

    def history(self, release: str) -> list[dict]:
        return json.loads(self.cli("history", release, "--output", "json").stdout)

    def get_values(self, release: str, all_values: bool = False) -> dict:
        args = ["get", "values", release, *(["--all"] if all_values else []), "--output", "json"]
        return json.loads(self.cli(*args).stdout) or {}


def _values(paths: Sequence[Path], flag: str) -> list[str]:
    return [word for path in paths for word in (flag, str(path))]


def _sets(items: Sequence[str]) -> list[str]:
    return [word for item in items for word in ("--set", item)]


def _wait(timeout: int) -> list[str]:
    return ["--wait", f"--timeout={timeout}s"]
