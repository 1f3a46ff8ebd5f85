"""Build the ZooKeeper image: `python -m tools.image [--no-cache] [--tag TAG]` (= `nox -s image`).

Steps: fetch the jars pinned in image/pom.xml with Maven (strict checksums), check each against image/jars.sha256,
stage image/ plus jars/ in build/image-context, make sure the base image exists (tools.engine), build, and print the
build time and image size. `--update-lock` rewrites image/jars.sha256 from what Maven fetched (after a pom change).
The tag is kube-zookeeper:<image/VERSION>; Maven gets that version as `revision` (the pom's own version), the
Dockerfile as the build argument `VERSION` (its version label).

`Ensemble` runs the built image as a StatefulSet would (hostnames <sts>-N, static addresses on a private network,
--add-host entries for every member's FQDN, one volume per member, the ensemble ConfigMap's `replicas` and the admin
Secret's `password` as read-only directories) for the image tests and benchmarks. All probing
goes through `exec` into the members, so no traffic leaves the containers' own loopback and network.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tools import progress, versions
from tools.engine import Engine, podman_store
from tools.errors import UserError, cli
from tools.run import CommandError, run, which

REPO = Path(__file__).resolve().parent.parent
IMAGE_DIR = REPO / "image"
LOCK_FILE = IMAGE_DIR / "jars.sha256"
CONTEXT_DIR = REPO / "build" / "image-context"
VERSION = versions.image_version()  # image/VERSION
TAG = f"{versions.IMAGE_NAME}:{VERSION}"
CONTEXT_FILES = ["Dockerfile", "zk-common.sh", "ensemble.sh", "start.sh", "ready_live.sh", "metrics.sh", "zkCli.sh"]
CONTEXT_FILES += ["cds-train.sh", "logback.xml", "logback-cli.xml", "LoopbackProbeFilter.java"]


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
            engine.build(context, tag, no_cache=no_cache, build_args={"VERSION": VERSION})
        return time.monotonic() - started


def configmap_env(path: Path = REPO / "base" / "zookeeper.env") -> dict[str, str]:
    """The settings the base ConfigMap gives every member (KEY=VALUE lines)."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


@dataclass
class Ensemble:
    """`size` members of `image` on one private network, named and addressed as a StatefulSet's pods."""

    engine: Engine
    image: str = TAG
    prefix: str = field(default_factory=lambda: f"kzk-{os.getpid()}")
    size: int = 3
    env: dict[str, str | None] = field(default_factory=dict)
    user: str | None = None
    read_only: bool = False
    memory: str | None = None
    statefulset: str = "zookeeper"
    headless: str = "zookeeper-headless"
    namespace: str = "kzk-test"
    subnet: str = ""
    settings: Path | None = None  # <dir>/ensemble/replicas and <dir>/admin/password, mounted read-only

    def write_settings(self) -> None:
        """The desired count and a password for the run, as the ConfigMap and Secret volumes would show them."""
        if self.settings is None:
            self.settings = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        for directory, name, text in (("ensemble", "replicas", f"{self.size}\n"),
                                      ("admin", "password", secrets.token_urlsafe(24))):  # fmt: skip
            (self.settings / directory).mkdir(mode=0o755, exist_ok=True)
            (self.settings / directory / name).write_text(text)
            (self.settings / directory / name).chmod(0o444)

    @property
    def network(self) -> str:
        return f"{self.prefix}-net"

    def name(self, member: int) -> str:
        return f"{self.prefix}-{self.statefulset}-{member}"

    def hostname(self, member: int) -> str:
        return f"{self.statefulset}-{member}"

    def fqdn(self, member: int) -> str:
        return f"{self.hostname(member)}.{self.headless}.{self.namespace}.svc.cluster.local"

    def ip(self, member: int) -> str:
        return self.subnet.rsplit(".", 1)[0] + f".{10 + member}"

    def create(self) -> None:
        """Network and volumes (not the members: see start_all)."""
        base = os.getpid() % 150
        for attempt in range(20):  # another run may hold a subnet; try the next
            subnet = f"10.89.{100 + (base + attempt) % 150}.0/24"
            try:
                self.engine.network_create(self.network, subnet)
            except CommandError:
                continue
            self.subnet = subnet
            break
        else:
            raise UserError(f"could not create network {self.network}: every 10.89.100-249.0/24 subnet tried is taken")
        for member in range(self.size):
            self.engine.volume_create(f"{self.name(member)}-data")
        self.write_settings()

    def run_member(self, member: int) -> None:
        # The ConfigMap's settings without ZOO_SERVERS: the membership is dynamic (ZOO_SERVERS=1 in env: standalone)
        env = {**configmap_env(), "ZOO_SERVERS": None, "POD_NAMESPACE": self.namespace, **self.env}
        env = {key: value for key, value in env.items() if value is not None}  # None: leave the setting unset
        assert self.settings is not None, "create() first"
        self.engine.run(
            self.image,
            name=self.name(member),
            hostname=self.hostname(member),
            network=self.network,
            ip=self.ip(member),
            add_hosts={self.fqdn(other): self.ip(other) for other in range(self.size)},
            volumes=[f"{self.name(member)}-data:/var/lib/zookeeper",
                     f"{self.settings / 'ensemble'}:/etc/zookeeper/ensemble:ro",
                     f"{self.settings / 'admin'}:/etc/zookeeper/admin:ro"],
            tmpfs=["/opt/zookeeper/conf"],
            user=self.user,
            read_only=self.read_only,
            env=env,
            memory=self.memory,
        )

    def start_all(self) -> None:
        for member in range(self.size):
            self.run_member(member)

    def four_letter(self, member: int, word: str) -> str:
        """A four-letter word's reply, asked inside the member (empty when it cannot be asked)."""
        script = f". /opt/zookeeper/bin/zk-common.sh && zk_4lw 2181 {word}"
        return self.engine.exec(self.name(member), ["bash", "-c", script], timeout=30).stdout

    def metrics(self, member: int) -> str:
        """The member's Prometheus page (:7000/metrics, without the HTTP headers), fetched inside the member."""
        script = ('exec 3<>/dev/tcp/127.0.0.1/7000 && printf "GET /metrics HTTP/1.0\\r\\n\\r\\n" >&3 '
                  "&& timeout 10 cat <&3")
        page = self.engine.exec(self.name(member), ["bash", "-c", script], timeout=30).stdout
        return page.split("\r\n\r\n", 1)[-1]

    def probe(self, member: int, mode: str) -> bool:
        return self.engine.exec(self.name(member), ["ready_live.sh", "2181", mode], timeout=30).code == 0

    def mode(self, member: int) -> str:
        """leader, follower, standalone, or '' when the member is not serving."""
        for line in self.four_letter(member, "srvr").splitlines():
            if line.startswith("Mode: "):
                return line.removeprefix("Mode: ").strip()
        return ""

    def wait(self, condition, timeout: float = 90, interval: float = 0.2) -> bool:
        """Poll condition() until true or timeout seconds pass; returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            if condition():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(interval)

    def serving(self, members: list[int] | None = None) -> bool:
        return all(self.probe(member, "ready") for member in members or range(self.size))

    def voting(self) -> bool:
        """Every member serves and reports every member as a voter (`conf`): the joins of the birth are done."""
        from tools.smoke.zk import parse_conf

        everyone = set(range(1, self.size + 1))
        return all((membership := parse_conf(self.four_letter(member, "conf"))) is not None
                   and membership.voters == everyone for member in range(self.size))

    @contextmanager
    def running(self, timeout: float = 120) -> Iterator[Ensemble]:
        """Create, start every member and wait until all serve as voters; everything is removed on leaving the block.

        A UserError with the end of each member's log when they do not all serve within timeout seconds."""
        try:
            self.create()
            self.start_all()
            if not self.wait(lambda: self.serving() and (self.size == 1 or self.voting()), timeout=timeout):
                logs = "\n".join(self.engine.logs(self.name(m))[-2000:] for m in range(self.size))
                raise UserError(f"the ensemble did not serve within {timeout:.0f} s; logs:\n{logs}")
            yield self
        finally:
            self.destroy()

    def destroy(self) -> None:
        for member in range(self.size):
            self.engine.rm(self.name(member))
            self.engine.volume_rm(f"{self.name(member)}-data")
        self.engine.network_rm(self.network)
        if self.settings is not None:
            shutil.rmtree(self.settings, ignore_errors=True)


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


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s image --", description=__doc__.splitlines()[0])
    parser.add_argument("--tag", default=TAG, help=f"image tag (default {TAG})")
    parser.add_argument("--no-cache", action="store_true", help="rebuild every layer")
    parser.add_argument("--update-lock", action="store_true", help="rewrite image/jars.sha256 from the fetched jars")
    parser.add_argument("--save", metavar="PATH", type=Path,
                        help=f"also write the image as a docker-archive tar (e.g. {ARCHIVE}) for kind load "
                             "image-archive, minikube image load or docker load -i")
    parser.add_argument("--push", metavar="REGISTRY",
                        help="also tag the image as REGISTRY/<name>:<tag> and push it with the engine")
    args = parser.parse_args(argv)
    if args.save is not None and (args.save.is_dir() or not args.save.name.endswith(".tar")):
        raise UserError(f"--save {args.save}: expected a file path ending in .tar, e.g. {ARCHIVE}")
    engine = Engine.detect()
    seconds = build(engine, args.tag, no_cache=args.no_cache, update_lock=args.update_lock)
    size = engine.image_size(args.tag)
    print(f"built {args.tag} with {engine.name} in {seconds:.1f} s; size {size / 1024 / 1024:.0f} MiB")
    if args.save is not None:
        with progress.step(f"saving {args.tag} to {args.save}"):
            engine.save(args.tag, args.save)
    pushed = None
    if args.push:
        with progress.step(f"pushing {args.tag} to {args.push}"):
            try:
                pushed = engine.push(args.tag, args.push)
            except CommandError as exc:
                output = (exc.result.stderr or exc.result.stdout).strip().splitlines()
                raise UserError(f"--push {args.push}: {engine.name} push failed: "
                                f"{output[-1] if output else f'exit {exc.result.code}'}") from None
    print("\n".join(next_steps(engine, args.tag, args.save, pushed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
