"""The local container ensemble: the one implementation of "members of the image as containers laid out as a
StatefulSet's pods", for the image tests, the monitoring tests, the benchmarks and the smoke `local` target.

`Ensemble` runs each member from a `PodTemplate` (tools/render/pod.py): a rendered profile's pod (the smoke target) or
the image's own defaults (`image_template`: the base ConfigMap's settings without ZOO_SERVERS, so the membership is
dynamic and born from member 0, plus env overrides). Each member gets the pod's hostname (`<sts>-N`), a static
address on a private network of the run's own (one /24 from `SUBNETS`), `--add-host` entries for every member's
StatefulSet FQDN up to `max_members` (so a scale-up finds the new members by name), the template's env, uid,
read-only root and emptyDirs (as tmpfs), an optional memory limit, one named volume for its data, and two read-only
directories in the places of the ensemble ConfigMap (`/etc/zookeeper/ensemble/replicas`, the desired count) and the
admin Secret (`/etc/zookeeper/admin/password`, a password made for the run), each file replaced in one rename.

`scale(n)` is `kubectl scale` plus the ConfigMap change in one; `stop`/`start`/`kill`/`replace`/`remove` are what
happens to a pod, `delete_pod` what the kubelet does when one is deleted (the preStop hook, then the stop);
`destroy(keep_volumes)` removes everything the run made (volumes kept, like PVCs, on request).
Probing goes through `exec` into the members (`four_letter`, `metrics`, `probe`), so no traffic leaves the run's own
network; `address(member)` is for a client on the host that talks to the members of this run only.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from tools import REPO_ROOT
from tools.base.contract import (
    ADMIN_DIR,
    ADMIN_KEY,
    CLIENT_PORT,
    CONF_DIR,
    DATA_VOLUME_DIR,
    ENSEMBLE_DIR,
    ENSEMBLE_KEY,
    LEAVE_SCRIPT,
    METRICS_PORT,
    PROBE_SCRIPT,
    TLS_DIR,
    ZK_HOME,
)
from tools.base.errors import UserError
from tools.base.run import Result
from tools.cli.engine import Engine
from tools.cli.zookeeper import parse_conf
from tools.image.build import TAG
from tools.render.pod import PodTemplate

SUBNETS = range(100, 250)  # 10.89.<n>.0/24: the run takes the first free one from a random start
SUBNET_TRIES = 20  # another run (or another network) may hold a subnet: try the next ones


def configmap_env(path: Path = REPO_ROOT / "base" / "zookeeper.env") -> dict[str, str]:
    """The settings the base ConfigMap gives every member (KEY=VALUE lines)."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def image_template(image: str = TAG, env: dict[str, str | None] | None = None, *, user: str | None = None,
                   read_only: bool = False, namespace: str = "kzk-test", replicas: int = 3) -> PodTemplate:
    """The image run by its own defaults, as the base StatefulSet runs it: the base ConfigMap's settings without
    ZOO_SERVERS (the membership is dynamic; ZOO_SERVERS=1 in env: standalone), `env` on top (None: leave a setting
    unset), the image's own command, the data volume and conf/ as the emptyDir."""
    merged = {**configmap_env(), "ZOO_SERVERS": None, "POD_NAMESPACE": namespace, **(env or {})}
    return PodTemplate(
        statefulset="zookeeper",
        service="zookeeper-headless",
        image=image,
        command=[],
        env={key: value for key, value in merged.items() if value is not None},
        user=user,
        read_only=read_only,
        data_mount=DATA_VOLUME_DIR,
        scratch_mounts=[CONF_DIR],
        replicas=replicas,
        namespace=namespace,
        pre_stop=[LEAVE_SCRIPT],
    )


class Ensemble:
    """`size` members on one private network, named and addressed as a StatefulSet's pods.

    Either `template` (a rendered profile's pod) or the image's defaults (`image`, `env`, `user`, `read_only`; see
    image_template). `template` may be replaced between runs of a member (dataclasses.replace), as a rollout changes
    the pod template. Names carry `prefix`, so parallel runs do not collide."""

    def __init__(self, engine: Engine, image: str = TAG, *, template: PodTemplate | None = None,
                 size: int | None = None, prefix: str | None = None, env: dict[str, str | None] | None = None,
                 user: str | None = None, read_only: bool = False, memory: str | None = None,
                 max_members: int | None = None, tls: Path | None = None):
        if template is not None and (env or user or read_only):
            raise ValueError("image, env, user and read_only set up the image's defaults; change a template instead")
        self.engine = engine
        self.template = template or image_template(image, env, user=user, read_only=read_only)
        self.size = size or self.template.replicas
        self.max_members = max(max_members or 0, self.size)
        self.prefix = prefix or f"kzk-{os.getpid()}"
        self.memory = memory
        self.tls = tls  # a directory of tls.crt, tls.key and ca.crt, mounted read-only at TLS_DIR in every member
        self.password = secrets.token_urlsafe(24)
        self.subnet = ""  # 10.89.N.0/24 once create() made the network
        self.settings: Path | None = None  # <dir>/ensemble/replicas and <dir>/admin/password, mounted read-only
        self.data_volumes = {member: f"{self.prefix}-data-{member}" for member in range(self.max_members)}
        self.created_volumes: list[str] = []
        self._deletions: ThreadPoolExecutor | None = None  # pods a scale-down deletes, each beside the others
        self._deleting: list[Future] = []

    # -- names and addresses ------------------------------------------------------------------------------------

    @property
    def network(self) -> str:
        return f"{self.prefix}-net"

    def name(self, member: int) -> str:
        """The member's container."""
        return f"{self.prefix}-{self.template.hostname(member)}"

    def hostname(self, member: int) -> str:
        return self.template.hostname(member)

    def fqdn(self, member: int) -> str:
        return self.template.fqdn(member)

    def address(self, member: int) -> str:
        """The member's static address on the run's network (a client on the host may use it)."""
        if not self.subnet:
            raise UserError("the ensemble has no network yet: create() first")
        return self.subnet.rsplit(".", 1)[0] + f".{10 + member}"

    def addresses(self) -> dict[int, str]:
        """Every address a member of this run may take (up to max_members)."""
        return {member: self.address(member) for member in range(self.max_members)}

    # -- create and remove --------------------------------------------------------------------------------------

    def create(self) -> None:
        """The network and the settings files (volumes come with each member's first run: see run_member)."""
        self.create_network()
        self.write_settings()

    def create_network(self) -> None:
        """A /24 of its own from SUBNETS: a random start, then the next ones (another run may hold a subnet)."""
        start, error = random.randrange(len(SUBNETS)), None
        for attempt in range(SUBNET_TRIES):
            subnet = f"10.89.{SUBNETS[(start + attempt) % len(SUBNETS)]}.0/24"
            try:
                self.engine.network_create(self.network, subnet)
            except UserError as exc:
                error = exc
                continue
            self.subnet = subnet
            return
        raise UserError(f"could not create network {self.network}: {SUBNET_TRIES} subnets of 10.89.{SUBNETS.start}-"
                        f"{SUBNETS.stop - 1}.0/24 tried, the last failed with: {error}")

    def write_settings(self) -> None:
        """The ensemble ConfigMap's `replicas` (the current size) and the admin Secret's `password`, each replaced in
        one rename: a member reading them never sees half a file."""
        if self.settings is None:
            self.settings = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        files = (("ensemble", ENSEMBLE_KEY, f"{self.size}\n"), ("admin", ADMIN_KEY, self.password))
        for directory, name, text in files:
            folder = self.settings / directory
            folder.mkdir(mode=0o755, exist_ok=True)
            folder.chmod(0o755)
            partial = folder / f".{name}.partial"
            partial.write_text(text)
            partial.chmod(0o444)
            os.replace(partial, folder / name)

    def create_volume(self, name: str) -> None:
        self.engine.volume_create(name)
        self.created_volumes.append(name)

    def destroy(self, keep_volumes: bool = False) -> list[str]:
        """Remove every member a scale may have made, the network and the settings; the volumes too unless
        keep_volumes. Safe after a partial create. Returns the volumes kept."""
        if self._deletions is not None:
            self._deletions.shutdown(wait=True)
            self._deletions, self._deleting = None, []
        for member in range(self.max_members):
            self.engine.rm(self.name(member))
        self.engine.network_rm(self.network)
        if self.settings is not None:
            shutil.rmtree(self.settings, ignore_errors=True)
        if keep_volumes:
            return list(self.created_volumes)
        for volume in self.created_volumes:
            self.engine.volume_rm(volume)
        self.created_volumes = []
        return []

    # -- members ------------------------------------------------------------------------------------------------

    def run_member(self, member: int, *, cut_off: bool = False, tls: Path | None = None) -> None:
        """Create the member's container from the template, on its volume (made on its first run). cut_off: the
        other members' names lead nowhere from inside it (a partition, or DNS not yet resolving them): 127.0.0.2,
        where nothing listens, so every connection to a peer is refused at once. tls: this member's TLS directory
        instead of the ensemble's."""
        if self.settings is None:
            raise UserError("the ensemble has no settings yet: create() first")
        template = self.template
        if self.data_volumes[member] not in self.created_volumes:
            self.create_volume(self.data_volumes[member])
        self.engine.run(
            template.image,
            name=self.name(member),
            command=template.command,
            hostname=template.hostname(member),
            network=self.network,
            ip=self.address(member),
            add_hosts={template.fqdn(other): "127.0.0.2" if cut_off and other != member else address
                       for other, address in self.addresses().items()},
            volumes=[f"{self.data_volumes[member]}:{template.data_mount}",
                     f"{self.settings / 'ensemble'}:{ENSEMBLE_DIR}:ro", f"{self.settings / 'admin'}:{ADMIN_DIR}:ro",
                     *([f"{tls or self.tls}:{TLS_DIR}:ro"] if tls or self.tls else [])],
            tmpfs=template.scratch_mounts,
            user=template.user,
            read_only=template.read_only,
            env=template.env,
            memory=self.memory,
        )

    def start_all(self) -> None:
        """Run every member 0..size-1 (a fresh create, or again on the volumes `remove` kept)."""
        for member in range(self.size):
            self.run_member(member)

    def stop(self, member: int, timeout: int = 10) -> None:
        """SIGTERM, then SIGKILL after timeout seconds; the container stays (start brings it back)."""
        self.engine.stop(self.name(member), timeout=timeout)

    def start(self, member: int) -> None:
        """Start a stopped or killed container again: what the kubelet does after a container died."""
        self.engine.start(self.name(member))

    def kill(self, member: int, signal: str = "KILL") -> None:
        """kill -9 (by default) of the member's JVM, its container's PID 1."""
        self.engine.kill(self.name(member), signal)

    def remove(self, member: int) -> None:
        """Delete the member's container; its volume stays, as a PVC does."""
        self.engine.rm(self.name(member))

    def lose_volume(self, member: int) -> None:
        """The member's container and its data volume deleted (a claim lost with its disk); its next run starts on
        a new, empty volume."""
        self.engine.rm(self.name(member))
        self.engine.volume_rm(self.data_volumes[member])
        if self.data_volumes[member] in self.created_volumes:
            self.created_volumes.remove(self.data_volumes[member])

    def delete_pod(self, member: int, grace_seconds: int = 30) -> None:
        """What the kubelet does to a pod that is deleted: the template's preStop command, then SIGTERM, then
        SIGKILL once the grace period (which the hook's time counts towards) is over; the container stays."""
        start = time.monotonic()
        if self.template.pre_stop:
            self.exec(member, self.template.pre_stop, timeout=grace_seconds)
        self.stop(member, timeout=max(1, round(grace_seconds - (time.monotonic() - start))))

    def replace(self, member: int, grace_seconds: int = 30) -> None:
        """A rolling update's step: the pod is deleted (delete_pod) and created again from the (possibly changed)
        template on its volume."""
        self.delete_pod(member, grace_seconds)
        self.remove(member)
        self.run_member(member)

    def scale(self, replicas: int, wait: bool = True) -> None:
        """`replicas` in the ConfigMap and the StatefulSet at once: every member sees the new count, new members start
        on their own (possibly kept) volumes, members at or above the new count are deleted (delete_pod, all at
        once as the Parallel policy does; their volumes stay). wait=False returns while the deleted members still
        run their hooks, as the next `kubectl apply` does; settle() waits for them."""
        if not 1 <= replicas <= self.max_members:
            raise UserError(f"the local ensemble runs 1 to {self.max_members} members, not {replicas}")
        old, self.size = self.size, replicas
        self.write_settings()
        for member in range(old, replicas):
            self.run_member(member)
        if self._deletions is None:
            self._deletions = ThreadPoolExecutor(max_workers=self.max_members, thread_name_prefix="pod-delete")
        self._deleting += [self._deletions.submit(self._delete_and_remove, member)
                           for member in reversed(range(replicas, old))]
        if wait:
            self.settle()

    def settle(self) -> None:
        """Wait until every pod deletion a scale started is done (its hook run, its container gone)."""
        deleting, self._deleting = self._deleting, []
        for deletion in deleting:
            deletion.result()

    def _delete_and_remove(self, member: int) -> None:
        self.delete_pod(member)
        self.remove(member)

    # -- asking the members -------------------------------------------------------------------------------------

    def exec(self, member: int, argv: list[str], timeout: float = 30) -> Result:
        """Run argv inside the member; never raises for a non-zero exit, a member that is down or a timeout (124)."""
        try:
            return self.engine.exec(self.name(member), argv, timeout=timeout)
        except UserError as exc:  # the engine timed out
            return Result(124, "", str(exc))

    def logs(self, member: int) -> str:
        return self.engine.logs(self.name(member))

    def four_letter(self, member: int, word: str) -> str:
        """A four-letter word's reply, asked inside the member (empty when it cannot be asked)."""
        script = f". {ZK_HOME}/bin/zk-common.sh && zk_4lw {CLIENT_PORT} {word}"
        return self.exec(member, ["bash", "-c", script], timeout=30).stdout

    def metrics(self, member: int) -> str:
        """The member's Prometheus page (:7000/metrics, without the HTTP headers), fetched inside the member."""
        script = (f'exec 3<>/dev/tcp/127.0.0.1/{METRICS_PORT} && printf "GET /metrics HTTP/1.0\\r\\n\\r\\n" >&3 '
                  "&& timeout 10 cat <&3")
        page = self.exec(member, ["bash", "-c", script], timeout=30).stdout
        return page.split("\r\n\r\n", 1)[-1]

    def probe(self, member: int, mode: str) -> bool:
        """The image's readiness or liveness probe (`ready` or `live`), as the kubelet runs it."""
        return self.exec(member, [PROBE_SCRIPT, str(CLIENT_PORT), mode], timeout=30).code == 0

    def mode(self, member: int) -> str:
        """leader, follower, standalone, or '' when the member is not serving."""
        for line in self.four_letter(member, "srvr").splitlines():
            if line.startswith("Mode: "):
                return line.removeprefix("Mode: ").strip()
        return ""

    def wait(self, condition: Callable[[], bool], timeout: float = 90, interval: float = 0.2) -> bool:
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
                logs = "\n".join(self.logs(member)[-2000:] for member in range(self.size))
                raise UserError(f"the ensemble did not serve within {timeout:.0f} s; logs:\n{logs}")
            yield self
        finally:
            self.destroy()

