"""The local container ensemble.

`Ensemble` runs the built image as a StatefulSet would (hostnames <sts>-N, static addresses on a private network,
--add-host entries for every member's FQDN, one volume per member, the ensemble ConfigMap's `replicas` and the admin
Secret's `password` as read-only directories) for the image tests and benchmarks. All probing
goes through `exec` into the members, so no traffic leaves the containers' own loopback and network.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    METRICS_PORT,
    PROBE_SCRIPT,
    ZK_HOME,
)
from tools.base.errors import UserError
from tools.base.run import CommandError
from tools.cli.engine import Engine
from tools.cli.zookeeper import parse_conf
from tools.image.build import TAG


def configmap_env(path: Path = REPO_ROOT / "base" / "zookeeper.env") -> dict[str, str]:
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
        for directory, name, text in (("ensemble", ENSEMBLE_KEY, f"{self.size}\n"),
                                      ("admin", ADMIN_KEY, secrets.token_urlsafe(24))):  # fmt: skip
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
            volumes=[f"{self.name(member)}-data:{DATA_VOLUME_DIR}",
                     f"{self.settings / 'ensemble'}:{ENSEMBLE_DIR}:ro",
                     f"{self.settings / 'admin'}:{ADMIN_DIR}:ro"],
            tmpfs=[CONF_DIR],
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
        script = f". {ZK_HOME}/bin/zk-common.sh && zk_4lw {CLIENT_PORT} {word}"
        return self.engine.exec(self.name(member), ["bash", "-c", script], timeout=30).stdout

    def metrics(self, member: int) -> str:
        """The member's Prometheus page (:7000/metrics, without the HTTP headers), fetched inside the member."""
        script = (f'exec 3<>/dev/tcp/127.0.0.1/{METRICS_PORT} && printf "GET /metrics HTTP/1.0\\r\\n\\r\\n" >&3 '
                  "&& timeout 10 cat <&3")
        page = self.engine.exec(self.name(member), ["bash", "-c", script], timeout=30).stdout
        return page.split("\r\n\r\n", 1)[-1]

    def probe(self, member: int, mode: str) -> bool:
        return self.engine.exec(self.name(member), [PROBE_SCRIPT, str(CLIENT_PORT), mode], timeout=30).code == 0

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
