"""Build the ZooKeeper image (the CLI is tools/image/__main__.py: `nox -s image`).

Steps: fetch the jars pinned in image/pom.xml with Maven (strict checksums), check each against image/jars.sha256,
stage image/ plus jars/ in build/image-context, make sure the base image exists (tools.cli.engine), build, and print the
build time and image size. `--update-lock` rewrites image/jars.sha256 from what Maven fetched (after a pom change).
The tag is kube-zookeeper:<image/VERSION>; Maven gets that version as `revision` (the pom's own version), the
Dockerfile as the build argument `VERSION` (its version label).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from tools import REPO_ROOT
from tools.base import progress, versions
from tools.base.contract import LEAVE_SCRIPT, METRICS_SCRIPT, PROBE_SCRIPT
from tools.base.errors import UserError
from tools.base.run import run, which
from tools.cli.engine import Engine, podman_store

IMAGE_DIR = REPO_ROOT / "image"
LOCK_FILE = IMAGE_DIR / "jars.sha256"
CONTEXT_DIR = REPO_ROOT / "build" / "image-context"
VERSION = versions.image_version()  # image/VERSION
TAG = f"{versions.IMAGE_NAME}:{VERSION}"
CONTEXT_FILES = ["Dockerfile", "zk-common.sh", "ensemble.sh", "tls.sh", "start.sh", PROBE_SCRIPT, METRICS_SCRIPT,
                 LEAVE_SCRIPT, "zkCli.sh"]
CONTEXT_FILES += ["cds-train.sh", "logback.xml", "logback-cli.xml", "LoopbackProbeFilter.java",
                  "EnsembleReconfig.java", "MemberLeave.java"]


def fetch_jars(dest: Path) -> list[Path]:
    """Maven copies the runtime jars of image/pom.xml into dest (emptied first); returns them sorted."""
    mvn = which("mvn", "install Maven (apt-get install maven) to fetch the ZooKeeper jars")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with progress.step("fetching the ZooKeeper jars pinned in image/pom.xml with Maven",
                       note="downloaded once into ~/.m2; later builds copy them from there"):
        run(
            [mvn, "--batch-mode", "--quiet", "--strict-checksums", "--file", IMAGE_DIR / "pom.xml",
             f"-Drevision={VERSION}", "dependency:copy-dependencies", f"-DoutputDirectory={dest}"],
            timeout=900,
        )  # fmt: skip
    return sorted(dest.glob("*.jar"))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_lock(lock: Path = LOCK_FILE) -> dict[str, str]:
    """jar name -> sha256 from a `sha256sum`-style file; a malformed line is an error naming file and line."""
    pins: dict[str, str] = {}
    for number, line in enumerate(lock.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64 or not all(c in "0123456789abcdef" for c in parts[0]):
            raise UserError(f"{lock}:{number}: expected '<sha256>  <jar name>', got {line!r}")
        pins[parts[1]] = parts[0]
    return pins


def verify_jars(jars: list[Path], pins: dict[str, str], lock: Path = LOCK_FILE) -> None:
    """Every fetched jar is pinned with the same sha256, and every pinned jar was fetched."""
    problems = []
    fetched = {jar.name: jar for jar in jars}
    for name, jar in fetched.items():
        if name not in pins:
            problems.append(f"{name}: fetched but not pinned in {lock.name}")
        elif sha256(jar) != pins[name]:
            problems.append(f"{name}: sha256 {sha256(jar)} differs from the pinned {pins[name]}")
    problems += [f"{name}: pinned in {lock.name} but not fetched" for name in sorted(set(pins) - set(fetched))]
    if problems:
        raise UserError(f"{lock}: the jars do not match their pins:\n  " + "\n  ".join(problems))


def write_lock(jars: list[Path], lock: Path = LOCK_FILE) -> None:
    header = "# sha256 of every jar in the image (python -m tools.image --update-lock rewrites this file)\n"
    lock.write_text(header + "".join(f"{sha256(jar)}  {jar.name}\n" for jar in jars))


def stage_context(context: Path = CONTEXT_DIR, update_lock: bool = False) -> Path:
    """build/image-context with the Dockerfile, scripts and verified jars; returns it."""
    jars = fetch_jars(context / "jars")
    if update_lock:
        write_lock(jars)
    verify_jars(jars, read_lock())
    for name in CONTEXT_FILES:
        shutil.copy2(IMAGE_DIR / name, context / name)
    return context


SOURCES_LABEL = "io.kubezookeeper.image.sources"  # the digest of what the image was built from (sources_digest)


def sources_digest() -> str:
    """sha256 of what an image build reads from image/: the context files, the jar pins and the pom (the jars
    themselves are checked against the pins), and image/VERSION."""
    digest = hashlib.sha256()
    for name in sorted({*CONTEXT_FILES, "pom.xml", LOCK_FILE.name, "VERSION"}):
        digest.update(name.encode() + b"\0" + (IMAGE_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()


def build(engine: Engine, tag: str = TAG, *, no_cache: bool = False, update_lock: bool = False) -> float:
    """Stage, ensure the base image, build; returns the build time in seconds (staging and base excluded).

    One build at a time per checkout (a lock file), so concurrent test runs do not stage over each other."""
    CONTEXT_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(CONTEXT_DIR.parent / "image-context.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        context = stage_context(update_lock=update_lock)
        engine.ensure_base_image()
        started = time.monotonic()
        with progress.step(f"building {tag} with {engine.name}",
                           note="3-8 min the first time; then the layer cache makes it seconds"):
            engine.build(context, tag, no_cache=no_cache, build_args={"VERSION": VERSION},
                         labels={SOURCES_LABEL: sources_digest()})
        return time.monotonic() - started


def ensure_image(engine: Engine, image: str, progress: Callable[[str], None] = print) -> None:
    """Build the image when the engine does not have it, or has it from other sources than image/ now holds (the tag
    stays the same while image/ changes); the manifests must run the tag this module builds."""
    exists = engine.image_exists(image)
    if exists and image != TAG:
        return  # an image the user brought: theirs to keep current
    if image != TAG:
        raise UserError(f"the manifests run {image}, but `python -m tools.image` builds {TAG}")
    if exists and engine.image_label(image, SOURCES_LABEL) == sources_digest():
        return
    why = "was built from other sources than image/ holds now" if exists else f"not found in {engine.name}"
    progress(f"smoke: {image} {why}; building it (python -m tools.image)")
    build(engine, image)


ARCHIVE = "build/kube-zookeeper.tar"


def next_steps(engine: Engine, tag: str, archive: Path | None = None, pushed: str | None = None) -> list[str]:
    """The commands that put the built image where kind, minikube, docker and a registry can use it."""
    if pushed:
        repository = pushed.rsplit(":", 1)[0]
        return [f"pushed {pushed}; point the manifests at it:",
                f"  Kustomize: set newName: {repository} in components/registry-image/kustomization.yaml",
                f"  Helm:      --set image.repository={repository}"]
    registry = (f"  registry:  nox -s image -- --push REGISTRY  (pushes REGISTRY/{tag.rsplit('/', 1)[-1]}, then "
                "prints where to set it)")
    if archive is None and engine.name == "docker":
        return [f"{tag} is in the docker daemon. To use it:", f"  kind:      kind load docker-image {tag}",
                f"  minikube:  minikube image load {tag}", registry]
    if archive is None:
        shown, save = ARCHIVE, f"nox -s image -- --save {ARCHIVE} && "
        lines = [f"{tag} is in podman's private store ({podman_store()}), which kind, minikube and docker do not "
                 "see. To use it:"]
    else:
        relative = os.path.relpath(archive)
        shown, save = (str(archive) if relative.startswith("..") else relative), ""
        lines = [f"saved {tag} to {shown} (a docker-archive). To use it:"]
    return [*lines, f"  kind:      {save}kind load image-archive {shown}",
            f"  minikube:  {save}minikube image load {shown}", f"  docker:    {save}docker load -i {shown}", registry]
