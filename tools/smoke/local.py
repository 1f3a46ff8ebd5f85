"""The `local` target: containers of the real image, set up the way the rendered StatefulSet sets up its pods.

Each member gets the pod's hostname (`zookeeper-N`), a static address on a private network of its own and
`--add-host` entries for every member's StatefulSet name (`zookeeper-N.zookeeper-headless.default.svc.cluster.local`)
up to MAX_MEMBERS (so a scale-up finds the new members by name), the ConfigMap's settings as environment, the pod's
uid and read-only root, its emptyDirs as tmpfs, one named volume for the data, and two read-only directories in the
places of the ensemble ConfigMap (`/etc/zookeeper/ensemble/replicas`, the desired count) and the admin Secret
(`/etc/zookeeper/admin/password`, a password made for the run). `scale(n)` is `kubectl scale` plus the ConfigMap
change in one: it rewrites `replicas` (every member sees it at once, as new pods do on a cluster) and creates or
deletes the members above the old or new count. Every name carries a run id, so parallel runs do not collide.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import tempfile
from pathlib import Path

from tools.base.contract import ADMIN_DIR, ADMIN_KEY, ENSEMBLE_DIR, ENSEMBLE_KEY
from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.base.run import Result
from tools.cli.engine import Engine
from tools.render import render
from tools.render.pod import pod_template
from tools.smoke.target import Target

MAX_MEMBERS = 5  # addresses and host entries for every member a scale may create


class LocalTarget(Target):
    """The StatefulSet's members as containers on a private network of this machine's podman or docker."""

    def __init__(self, engine: Engine, profile: Profile, run_id: str | None = None):
        self.engine = engine
        self.profile = profile
        self.run_id = run_id or secrets.token_hex(3)
        self.prefix = f"kz-smoke-{self.run_id}"
        self.network = self.prefix
        self.template = pod_template(render(profile), profile.name)
        self.members = self.template.replicas
        self.max_members = max(MAX_MEMBERS, self.members)
        self.data_volumes = {member: f"{self.prefix}-data-{member}" for member in range(self.max_members)}
        self.created_volumes: list[str] = []
        self.addresses: dict[int, str] = {}
        self.settings = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))  # the ConfigMap's and Secret's files
        self.password = secrets.token_urlsafe(24)

    def describe(self) -> str:
        return (
            f"local: {self.members} {self.engine.name} containers of {self.template.image} "
            f"set up as {self.profile.name}, run {self.run_id}"
        )

    def container(self, member: int) -> str:
        return f"{self.prefix}-{self.template.hostname(member)}"

    # -- Target -------------------------------------------------------------------------------------------------

    def deploy(self) -> None:
        self.create_network()
        self.write_settings()
        for member in range(self.members):
            self.run_member(member)

    def exec(self, member: int, argv: list[str], timeout: float) -> Result:
        try:
            return self.engine.exec(self.container(member), argv, timeout=timeout)
        except UserError as exc:  # the engine timed out
            return Result(124, "", str(exc))

    def stop(self, member: int) -> None:
        self.engine.stop(self.container(member))

    def start(self, members: list[int]) -> None:
        for member in members:
            self.engine.start(self.container(member))

    def remove_ensemble(self) -> None:
        for member in range(self.members):
            self.engine.rm(self.container(member))

    def recreate_ensemble(self) -> None:
        for member in range(self.members):
            self.run_member(member)

    def teardown(self, keep_volumes: bool) -> None:
        for member in range(self.max_members):
            self.engine.rm(self.container(member))
        self.engine.network_rm(self.network)
        shutil.rmtree(self.settings, ignore_errors=True)
        if keep_volumes:
            delete = " ".join(self.engine.argv("volume", "rm", *self.created_volumes))
            print(f"smoke: kept volumes {', '.join(self.created_volumes)}; delete them with `{delete}`")
            return
        for volume in self.created_volumes:
            self.engine.volume_rm(volume)

    # -- scaling and failures (the scale scenario) --------------------------------------------------------------

    def scale(self, replicas: int) -> None:
        """`replicas` in the ConfigMap and the StatefulSet at once: new members start on their own (possibly kept)
        volumes, members at or above the new count are deleted (their volumes stay, as PVCs do)."""
        if not 1 <= replicas <= self.max_members:
            raise UserError(f"the local target runs 1 to {self.max_members} members, not {replicas}")
        old, self.members = self.members, replicas
        self.write_settings()
        for member in range(old, replicas):
            self.run_member(member)
        for member in reversed(range(replicas, old)):
            self.engine.rm(self.container(member))

    def kill(self, member: int) -> None:
        """kill -9 of the member's JVM (its container's PID 1)."""
        self.engine.kill(self.container(member), "KILL")

    def restart_container(self, member: int) -> None:
        """What the kubelet does after a container died: start it again in the same pod."""
        self.engine.start(self.container(member))

    def replace(self, member: int, grace_seconds: int = 30) -> None:
        """A rolling update's step: the pod is deleted (SIGTERM, then SIGKILL after the grace period) and created
        again on its volume."""
        self.engine.stop(self.container(member), timeout=grace_seconds)
        self.engine.rm(self.container(member))
        self.run_member(member)

    def address(self, member: int) -> str:
        """The member's address, for a client on this machine (the run's own network)."""
        return self.addresses[member]

    # -- plumbing -----------------------------------------------------------------------------------------------

    def write_settings(self) -> None:
        """The ensemble ConfigMap's `replicas` and the admin Secret's `password`, each replaced in one rename."""
        files = (("ensemble", ENSEMBLE_KEY, f"{self.members}\n"), ("admin", ADMIN_KEY, self.password))
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

    def create_network(self) -> None:
        """A /24 of its own in 10.89.128-254 (another run may hold one: try a few)."""
        error: UserError | None = None
        for third in random.sample(range(128, 255), 5):
            try:
                self.engine.network_create(self.network, subnet=f"10.89.{third}.0/24")
            except UserError as exc:
                error = exc
                continue
            self.addresses = {member: f"10.89.{third}.{10 + member}" for member in range(self.max_members)}
            return
        raise UserError(f"could not create network {self.network} on a free subnet: {error}")

    def run_member(self, member: int) -> None:
        template = self.template
        if self.data_volumes[member] not in self.created_volumes:
            self.create_volume(self.data_volumes[member])
        self.engine.run(
            template.image,
            name=self.container(member),
            command=template.command,
            hostname=template.hostname(member),
            network=self.network,
            ip=self.addresses[member],
            add_hosts={template.fqdn(other): address for other, address in self.addresses.items()},
            volumes=[f"{self.data_volumes[member]}:{template.data_mount}",
                     f"{self.settings / 'ensemble'}:{ENSEMBLE_DIR}:ro", f"{self.settings / 'admin'}:{ADMIN_DIR}:ro"],
            tmpfs=template.scratch_mounts,
            user=template.user,
            read_only=template.read_only,
            env=template.env,
        )
