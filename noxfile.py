"""kube-zookeeper's sessions; `nox -l` is the menu. The logic lives in tools/."""

import hashlib
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True  # a missing interpreter fails the run; it never skips a gate
nox.options.sessions = ["lint", "validate", "tests"]

# Any Python from 3.11 up: the one running nox; under an older one, python3.11 (an error when it is missing).
PYTHON = sys.executable if sys.version_info >= (3, 11) else "3.11"


def _install(session: nox.Session, *extras: str) -> None:
    """`pip install -e .[extras]` once per venv, again only when pyproject.toml or the extras change."""
    spec = f".[{','.join(extras)}]" if extras else "."
    stamp = Path(session.virtualenv.location) / "kube-zookeeper-install.sha256"
    key = hashlib.sha256(Path("pyproject.toml").read_bytes() + spec.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == key:
        session.log(f"{spec} already installed (pyproject.toml unchanged)")
        return
    session.install("-q", "-e", spec)
    stamp.write_text(key)


@nox.session(python=PYTHON)
def render(session: nox.Session) -> None:
    """Render every overlay and chart profile to build/."""
    _install(session)
    session.run("python", "-m", "tools.render", *session.posargs)


@nox.session(python=PYTHON)
def validate(session: nox.Session) -> None:
    """Render, kubeconform every profile against Kubernetes 1.25..newest, policy rules, chart parity."""
    _install(session)
    session.run("python", "-m", "tools.checks.validate", *session.posargs)


@nox.session(python=PYTHON)
def policy(session: nox.Session) -> None:
    """Run the policy rules over the rendered profiles (-- --format json|junit)."""
    _install(session)
    session.run("python", "-m", "tools.checks.policy", *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite (pytest; posargs pass through)."""
    _install(session, "test", "lint")  # lint brings shellcheck, which a chart test runs
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff, yamllint, shellcheck, hadolint; generated blocks, chart copies, image version (-- --fix writes them)."""
    _install(session, "lint")
    session.run("python", "-m", "tools.checks.lint", *session.posargs)


@nox.session(python=PYTHON, default=False)
def mutate(session: nox.Session) -> None:
    """Apply each known mistake to a copy of the repository; validate or the guarding tests must catch it."""
    _install(session, "test")
    session.run("python", "-m", "tools.mutate", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks by section (-- [validate policy image smoke cluster real-node] [--repeat N] [--json FILE])."""
    _install(session, "test")  # nox, to time `nox -s validate` as typed
    session.run("python", "-m", "tools.bench", *session.posargs)


@nox.session(python=PYTHON, default=False)
def image(session: nox.Session) -> None:
    """Build the ZooKeeper image with podman or docker (-- --save PATH, --push REGISTRY)."""
    _install(session)
    session.run("python", "-m", "tools.image", *session.posargs)


@nox.session(python=PYTHON, default=False)
def smoke(session: nox.Session) -> None:
    """Deploy a real ensemble and run the tutorial's checks (-- --target local|kind|minikube|openshift|current)."""
    _install(session)
    session.run("python", "-m", "tools.smoke", *session.posargs)


@nox.session(python=PYTHON, default=False)
def cluster(session: nox.Session) -> None:
    """A local Kubernetes control plane with kwok nodes on 127.0.0.1, and a real node with --node real
    (-- up [--nodes N --zones Z --node kwok|real] | down | status)."""
    if not session.posargs:
        session.error("Usage: nox -s cluster -- up [--nodes N] [--zones Z] [--node kwok|real] | down | status")
    _install(session)
    session.run("python", "-m", "tools.cluster", *session.posargs)
