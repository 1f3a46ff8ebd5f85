"""The `local` target: a thin Target over the one local container ensemble (tools/image/ensemble.py).

The members run from the rendered profile's pod template (the StatefulSet's image, command, env, uid, read-only root,
emptyDirs and data mount), with the pods' names (`zookeeper-N.zookeeper-headless.default.svc.cluster.local`) and
room for MAX_MEMBERS, so the scale scenario can grow the ensemble. Every name carries a run id, so parallel runs do
not collide. Besides the Target interface it offers what the scale scenario needs: `scale`, `kill`,
`restart_container`, `replace` and `address`.
"""

from __future__ import annotations

import secrets

from tools.base.profiles import Profile
from tools.base.run import Result
from tools.cli.engine import Engine
from tools.image.ensemble import Ensemble
from tools.render import render
from tools.render.pod import PodTemplate, pod_template
from tools.smoke.target import Target

MAX_MEMBERS = 7  # addresses and host entries for every member a scale may create


class LocalTarget(Target):
    """The StatefulSet's members as containers on a private network of the host's podman or docker."""

    def __init__(self, engine: Engine, profile: Profile, run_id: str | None = None):
        self.profile = profile
        self.run_id = run_id or secrets.token_hex(3)
        template = pod_template(render(profile), profile.name)
        self.ensemble = Ensemble(engine, template=template, prefix=f"kz-smoke-{self.run_id}",
                                 max_members=max(MAX_MEMBERS, template.replicas))

    # -- what the scenarios and tests read ----------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self.ensemble.engine

    @property
    def members(self) -> int:  # type: ignore[override]  # the ensemble's current size (scale changes it)
        return self.ensemble.size

    @property
    def template(self) -> PodTemplate:
        return self.ensemble.template

    @template.setter
    def template(self, template: PodTemplate) -> None:
        """A new pod template (image, settings): members run from it when next created, as after a rollout."""
        self.ensemble.template = template

    @property
    def prefix(self) -> str:
        return self.ensemble.prefix

    @property
    def network(self) -> str:
        return self.ensemble.network

    @property
    def addresses(self) -> dict[int, str]:
        return self.ensemble.addresses()

    @property
    def password(self) -> str:
        """The admin Secret's password of the run (the super user the members reconfigure as)."""
        return self.ensemble.password

    def container(self, member: int) -> str:
        return self.ensemble.name(member)

    def describe(self) -> str:
        return (
            f"local: {self.members} {self.engine.name} containers of {self.template.image} "
            f"set up as {self.profile.name}, run {self.run_id}"
        )

    # -- Target -------------------------------------------------------------------------------------------------

    def deploy(self) -> None:
        self.ensemble.create()
        self.ensemble.start_all()

    def exec(self, member: int, argv: list[str], timeout: float) -> Result:
        return self.ensemble.exec(member, argv, timeout=timeout)

    def stop(self, member: int) -> None:
        self.ensemble.stop(member)

    def start(self, members: list[int]) -> None:
        for member in members:
            self.ensemble.start(member)

    def remove_ensemble(self) -> None:
        for member in range(self.members):
            self.ensemble.remove(member)

    def recreate_ensemble(self) -> None:
        self.ensemble.start_all()

    def teardown(self, keep_volumes: bool) -> None:
        kept = self.ensemble.destroy(keep_volumes=keep_volumes)
        if kept:
            delete = " ".join(self.engine.argv("volume", "rm", *kept))
            print(f"smoke: kept volumes {', '.join(kept)}; delete them with `{delete}`")

    # -- scaling and failures (the scale scenario) --------------------------------------------------------------

    def scale(self, replicas: int, wait: bool = True) -> None:
        """`replicas` in the ConfigMap and the StatefulSet at once (Ensemble.scale; wait=False returns while the
        deleted members still run their pre-stop hooks)."""
        self.ensemble.scale(replicas, wait=wait)

    def settle(self) -> None:
        """Wait for the pod deletions a scale started (Ensemble.settle)."""
        self.ensemble.settle()

    def kill(self, member: int) -> None:
        """kill -9 of the member's JVM (its container's PID 1)."""
        self.ensemble.kill(member, "KILL")

    def restart_container(self, member: int) -> None:
        """What the kubelet does after a container died: start it again in the same pod."""
        self.ensemble.start(member)

    def remove(self, member: int) -> None:
        """Delete the member's container (a pod deleted, its claim kept)."""
        self.ensemble.remove(member)

    def run_member(self, member: int, cut_off: bool = False) -> None:
        """Create the member's container again (the StatefulSet recreating a deleted pod); cut_off: it cannot reach
        the other members (Ensemble.run_member)."""
        self.ensemble.run_member(member, cut_off=cut_off)

    def lose_volume(self, member: int) -> None:
        """Delete the member's container and its data volume: its next run starts empty."""
        self.ensemble.lose_volume(member)

    def replace(self, member: int, grace_seconds: int = 30) -> None:
        """A rolling update's step: the pod deleted (SIGTERM, SIGKILL after the grace period), created again on its
        volume from the current template."""
        self.ensemble.replace(member, grace_seconds)

    def address(self, member: int) -> str:
        """The member's address, for a client on the host (the run's own network)."""
        return self.ensemble.address(member)
