"""The container engine CLI (podman or docker), one small class around it.

    engine = Engine.detect()          # podman, else a docker CLI whose daemon answers; ToolMissing otherwise
    engine.name                       # "podman" | "docker"
    engine.ensure_base_image()        # podman only: debootstrap + import the Dockerfile's FROM tag if absent
    engine.build(context, tag, no_cache=False, dockerfile=None, build_args=None) -> Result
    engine.image_exists(tag) -> bool; engine.image_size(tag) -> int (bytes); engine.image_rm(tag)
    engine.image_label(tag, label) -> str
    engine.save(tag, archive)          # docker-archive tar for kind/minikube/docker; engine.push(tag, registry) -> ref
    engine.network_create(name, subnet="10.89.7.0/24"); engine.network_rm(name)
    engine.network_connect(network, container, ip=None); engine.network_disconnect(network, container)
    engine.volume_create(name); engine.volume_rm(name)
    engine.run(image, name=..., hostname=..., network=..., ip=..., add_hosts={"fqdn": "ip"},
               volumes=["vol:/var/lib/zookeeper"], tmpfs=["/tmp"], user="1000680000:0", read_only=True,
               env={"K": "V"}, memory="512m", command=["start.sh"]) -> container id (detached)
    engine.exec(container, ["ready_live.sh", "2181"], timeout=10) -> Result (never raises on a non-zero exit)
    engine.stop(name, timeout=10); engine.kill(name); engine.start(name); engine.rm(name)  # rm: force, missing is fine
    engine.logs(name) -> str; engine.inspect(name, "{{.State.Pid}}") -> str; engine.exists(name) -> bool
    engine.cli(*args, check=True, timeout=None) -> Result   # anything else

On podman the settings that work on these machines (runc, cgroupfs, file events, ulimits) are written to
<store>/containers.conf and every call uses one private store: --root <store>/root, --runroot <store>/run, networks
in <store>/networks. <store> is $KUBE_ZOOKEEPER_PODMAN_DIR, default tools.base.toolcache.cache_dir()/podman.
$KUBE_ZOOKEEPER_ENGINE=podman|docker forces a choice. Every call goes through tools.base.run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from tools.base import progress
from tools.base.errors import ToolMissing, UserError
from tools.base.run import Result, run
from tools.base.toolcache import cache_dir

BASE_IMAGE = "docker.io/library/debian:bookworm-slim"
BASE_RECIPE_LABEL = "io.kube-zookeeper.base-recipe"
BASE_RECIPE = "minbase-slim-2"  # bump when _debootstrap_tarball changes
APT_SOURCES = Path("/etc/apt/sources.list.d")

_PODMAN_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_config_dir = "{networks}"
"""


def podman_store() -> Path:
    return Path(os.environ.get("KUBE_ZOOKEEPER_PODMAN_DIR", cache_dir() / "podman"))


class Engine:
    """One container CLI with the arguments and environment it needs on every call."""

    def __init__(self, name: str, program: str):
        self.name = name
        self.program = program
        self._env: dict[str, str] = {}
        self._global: list[str] = []
        if name == "podman":
            store = podman_store()
            (store / "networks").mkdir(parents=True, exist_ok=True)
            conf = store / "containers.conf"
            text = _PODMAN_CONF.format(networks=store / "networks")
            if not conf.exists() or conf.read_text() != text:
                conf.write_text(text)
            self._env = {"CONTAINERS_CONF": str(conf)}
            self._global = ["--root", str(store / "root"), "--runroot", str(store / "run")]

    @classmethod
    def detect(cls) -> Engine:
        """podman if installed, else docker if its daemon answers; $KUBE_ZOOKEEPER_ENGINE forces one."""
        forced = os.environ.get("KUBE_ZOOKEEPER_ENGINE", "")
        if forced and forced not in ("podman", "docker"):
            raise UserError(f"KUBE_ZOOKEEPER_ENGINE={forced!r}: expected podman or docker")
        for name in [forced] if forced else ["podman", "docker"]:
            program = shutil.which(name)
            if not program:
                continue
            if name == "docker" and run([program, "info"], check=False, timeout=30).code != 0:
                continue
            return cls(name, program)
        raise ToolMissing(
            "no container engine: install podman (apt-get install podman runc debootstrap) "
            "or a docker CLI with a running daemon"
        )

    # -- plumbing -------------------------------------------------------------------------------------------------
    def argv(self, *args: str) -> list[str]:
        """The full command line for `<engine> args...` (for callers that need one, e.g. a timing loop)."""
        return [self.program, *self._global, *args]

    @property
    def env(self) -> dict[str, str]:
        return dict(self._env)

    def cli(self, *args: str, check: bool = True, timeout: float | None = None, input: str | None = None) -> Result:
        return run(self.argv(*args), check=check, timeout=timeout, input=input, env=self._env or None)

    # -- images ---------------------------------------------------------------------------------------------------
    def image_exists(self, tag: str) -> bool:
        return self.cli("image", "inspect", tag, check=False, timeout=60).code == 0

    def image_size(self, tag: str) -> int:
        return int(self.cli("image", "inspect", "--format", "{{.Size}}", tag, timeout=60).stdout.strip())

    def image_label(self, tag: str, label: str) -> str:
        fmt = "{{index .Labels " + f'"{label}"' + "}}"
        return self.cli("image", "inspect", "--format", fmt, tag, timeout=60).stdout.strip()

    def save(self, tag: str, archive: Path) -> None:
        """Write the image as a docker-archive tar (what `kind load image-archive`, `minikube image load` and
        `docker load -i` read); written beside the target and renamed, so no half-written archive is left.

        podman names a local build localhost/<tag>; the archive carries the name a manifest's bare `<tag>` means
        to containerd and docker (docker.io/library/<tag>), so the loaded image is the one the pods ask for."""
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(f".{archive.name}.partial")
        partial.unlink(missing_ok=True)
        fmt = ["--format", "docker-archive"] if self.name == "podman" else []
        if self.name == "podman" and docker_reference(tag) != tag:
            self.cli("tag", tag, docker_reference(tag), timeout=60)
            tag = docker_reference(tag)
        try:
            self.cli("save", *fmt, "--output", str(partial), tag, timeout=900)
            partial.replace(archive)
        finally:
            partial.unlink(missing_ok=True)

    def push(self, tag: str, registry: str) -> str:
        """Tag the image as REGISTRY/<tag> and push it; returns the pushed reference."""
        target = f"{registry.rstrip('/')}/{tag.rsplit('/', 1)[-1]}"
        self.cli("tag", tag, target, timeout=60)
        self.cli("push", target, timeout=1800)
        return target

    def image_rm(self, tag: str) -> None:
        self.cli("rmi", "--force", tag, check=False, timeout=120)

    def build(
        self, context: Path, tag: str, *, dockerfile: Path | None = None, no_cache: bool = False,
        build_args: dict[str, str] | None = None, labels: dict[str, str] | None = None, timeout: float = 1800,
    ) -> Result:
        args = ["build", "--tag", tag]
        if dockerfile:
            args += ["--file", str(dockerfile)]
        for name, value in (build_args or {}).items():
            args += ["--build-arg", f"{name}={value}"]
        for name, value in (labels or {}).items():
            args += ["--label", f"{name}={value}"]
        if no_cache:
            args.append("--no-cache")
        if self.name == "podman":
            args.append("--pull=never")  # a run pulls nothing; the base comes from ensure_base_image
        return self.cli(*args, str(context), timeout=timeout)

    def ensure_base_image(self, tag: str = BASE_IMAGE) -> bool:
        """Make `tag` exist; on podman from debootstrap (tarball cached). True when it had to be created.

        The import carries a label naming the recipe, so a base made by an older recipe is made again."""
        if self.name != "podman":
            return False
        if self.image_exists(tag) and self.image_label(tag, BASE_RECIPE_LABEL) == BASE_RECIPE:
            return False
        tarball = cache_dir() / f"debian-bookworm-{BASE_RECIPE}.tar"
        if not tarball.exists():
            with progress.step("making the Debian bookworm base with debootstrap",
                               note=f"once; cached in {tarball}; about 1-3 min"):
                _debootstrap_tarball(tarball)
        with progress.step(f"importing it into podman as {tag}", note="once per podman store"):
            self.cli("import", "--change", f"LABEL {BASE_RECIPE_LABEL}={BASE_RECIPE}", str(tarball), tag, timeout=600)
        return True

    # -- networks and volumes -------------------------------------------------------------------------------------
    def network_create(self, name: str, subnet: str) -> None:
        self.cli("network", "create", "--subnet", subnet, name, timeout=60)

    def network_rm(self, name: str) -> None:
        force = ["--force"] if self.name == "podman" else []  # older docker CLIs lack it
        self.cli("network", "rm", *force, name, check=False, timeout=120)

    def network_connect(self, network: str, container: str, ip: str | None = None) -> None:
        args = ["network", "connect"] + (["--ip", ip] if ip else [])
        self.cli(*args, network, container, timeout=60)

    def network_disconnect(self, network: str, container: str) -> None:
        self.cli("network", "disconnect", network, container, timeout=60)

    def volume_create(self, name: str) -> None:
        self.cli("volume", "create", name, timeout=60)

    def volume_rm(self, name: str) -> None:
        self.cli("volume", "rm", "--force", name, check=False, timeout=60)

    # -- containers -----------------------------------------------------------------------------------------------
    def run(
        self,
        image: str,
        *,
        name: str,
        command: Sequence[str] = (),
        hostname: str | None = None,
        network: str | None = None,
        ip: str | None = None,
        add_hosts: Mapping[str, str] | None = None,
        volumes: Iterable[str] = (),
        tmpfs: Iterable[str] = (),
        user: str | None = None,
        read_only: bool = False,
        env: Mapping[str, str] | None = None,
        memory: str | None = None,
        extra: Sequence[str] = (),
    ) -> str:
        """Start a detached container; returns its id."""
        args = ["run", "--detach", "--name", name]
        if hostname:
            args += ["--hostname", hostname]
        if network:
            args += ["--network", network]
        if ip:
            args += ["--ip", ip]
        for host, address in (add_hosts or {}).items():
            args += ["--add-host", f"{host}:{address}"]
        for volume in volumes:
            args += ["--volume", volume]
        for path in tmpfs:
            args += ["--tmpfs", path]
        if user:
            args += ["--user", user]
        if read_only:
            args.append("--read-only")
        for key, value in (env or {}).items():
            args += ["--env", f"{key}={value}"]
        if memory:
            args += ["--memory", memory]
        args += [*extra, image, *command]
        return self.cli(*args, timeout=120).stdout.strip()

    def exec(self, container: str, command: Sequence[str], *, user: str | None = None, timeout: float = 30) -> Result:
        """Run a command in a running container; the Result carries its exit code (no exception on non-zero)."""
        args = ["exec"] + (["--user", user] if user else [])
        return self.cli(*args, container, *command, check=False, timeout=timeout)

    def stop(self, name: str, timeout: int = 10) -> None:
        self.cli("stop", "--time", str(timeout), name, timeout=timeout + 60)

    def kill(self, name: str, signal: str = "KILL") -> None:
        self.cli("kill", "--signal", signal, name, timeout=60)

    def start(self, name: str) -> None:
        self.cli("start", name, timeout=120)

    def rm(self, name: str) -> None:
        self.cli("rm", "--force", "--volumes", name, check=False, timeout=120)

    def logs(self, name: str) -> str:
        result = self.cli("logs", name, check=False, timeout=60)
        return result.stdout + result.stderr

    def inspect(self, name: str, fmt: str) -> str:
        return self.cli("inspect", "--format", fmt, name, timeout=60).stdout.strip()

    def exists(self, name: str) -> bool:
        return self.cli("container", "inspect", name, check=False, timeout=60).code == 0


def docker_reference(image: str) -> str:
    """The full name docker and containerd give an image reference: kube-zookeeper:1 -> docker.io/library/...:1."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"docker.io/{image}" if rest else f"docker.io/library/{image}"


def apt_mirror() -> str:
    """The Debian mirror the host's apt uses (the first URIs:/deb line naming a debian archive)."""
    for source in sorted(APT_SOURCES.glob("*")) + [Path("/etc/apt/sources.list")]:
        if not source.is_file():
            continue
        for word in source.read_text().split():
            if word.startswith("http") and word.rstrip("/").endswith("/debian"):
                return word
    raise UserError(f"no Debian mirror found in {APT_SOURCES} or /etc/apt/sources.list (needed for debootstrap)")


# What Debian's own slim images leave out: docs (but copyright), man pages, locales; apt's caches and lists.
_DPKG_SLIM = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
"""
_APT_CLEAN = """\
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
"""


def _slim(root: Path) -> None:
    """Trim a debootstrapped tree the way Debian's slim images are (and keep later apt installs trim)."""
    (root / "etc/dpkg/dpkg.cfg.d/slim").write_text(_DPKG_SLIM)
    (root / "etc/apt/apt.conf.d/docker-clean").write_text(_APT_CLEAN)
    for pattern in ["var/lib/apt/lists/*", "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb", "usr/share/man/*",
                    "usr/share/info/*", "usr/share/lintian/*", "var/log/*.log", "var/log/apt/*"]:  # fmt: skip
        for path in root.glob(pattern):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    for section in range(1, 9):  # postinst scripts link man pages into these (openjdk's update-alternatives)
        (root / f"usr/share/man/man{section}").mkdir(parents=True, exist_ok=True)
    for path in (root / "usr/share/locale").iterdir():
        if path.name != "locale.alias":
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    for doc in (root / "usr/share/doc").glob("*/*"):
        if doc.name != "copyright":
            shutil.rmtree(doc) if doc.is_dir() and not doc.is_symlink() else doc.unlink()


def _debootstrap_tarball(tarball: Path) -> None:
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists():
        raise ToolMissing("debootstrap not found; apt-get install debootstrap (it builds the Debian base image)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="debootstrap-", dir=tarball.parent) as tmp:
        root = Path(tmp) / "rootfs"
        run([debootstrap, "--variant=minbase", "bookworm", root, apt_mirror()], timeout=1200)
        _slim(root)
        partial = tarball.with_suffix(".partial")
        run(["tar", "-C", root, "-cf", partial, "."], timeout=600)
        partial.replace(tarball)
