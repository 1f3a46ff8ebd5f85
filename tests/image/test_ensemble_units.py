"""tools/image/ensemble.py without a container engine: what each member is run with, the one subnet allocator, the
settings files, scaling and what destroy leaves. The real ensemble runs in test_ensemble.py."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.base.run import CommandError, Result
from tools.image import ensemble as ensemble_module
from tools.image.ensemble import Ensemble, image_template
from tools.render import render
from tools.render.pod import pod_template


class FakeEngine:
    """Records the calls Ensemble makes; network_create refuses the subnets in `taken`."""

    name = "podman"

    def __init__(self, taken: set[str] = frozenset()):
        self.taken = set(taken)
        self.calls: list[tuple] = []
        self.runs: dict[str, dict] = {}

    def network_create(self, name: str, subnet: str) -> None:
        self.calls.append(("network_create", name, subnet))
        if subnet in self.taken:
            raise CommandError(["podman", "network", "create"], Result(125, "", f"subnet {subnet} is already used"))

    def __getattr__(self, verb: str):
        def record(*args, **kwargs):
            self.calls.append((verb, *args))
            if verb == "run":
                self.runs[kwargs["name"]] = {"image": args[0], **kwargs}
            return Result(0, "", "") if verb == "exec" else None

        return record

    def verbs(self, verb: str) -> list[tuple]:
        return [call[1:] for call in self.calls if call[0] == verb]


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


def test_a_member_of_the_image_defaults_runs_as_the_tests_ask(engine):
    members = Ensemble(engine, "img:1", prefix="kzk-u", env={"ZOO_HEAP": "256M", "ZOO_TICK_TIME": None},
                       user="1000680000:0", read_only=True, memory="512m")
    members.create()
    members.start_all()
    assert len(engine.runs) == 3
    run = engine.runs["kzk-u-zookeeper-1"]
    assert (run["image"], run["hostname"], run["user"], run["read_only"], run["memory"]) == (
        "img:1", "zookeeper-1", "1000680000:0", True, "512m")
    assert run["command"] == []  # the image's own entrypoint
    assert run["env"]["ZOO_HEAP"] == "256M" and "ZOO_TICK_TIME" not in run["env"]  # None: left unset
    assert "ZOO_SERVERS" not in run["env"] and run["env"]["POD_NAMESPACE"] == "kzk-test"
    assert run["tmpfs"] == ["/opt/zookeeper/conf"]
    assert run["ip"] == members.address(1) and run["network"] == "kzk-u-net"
    assert run["add_hosts"] == {f"zookeeper-{n}.zookeeper-headless.kzk-test.svc.cluster.local": members.address(n)
                                for n in range(3)}
    assert run["volumes"] == ["kzk-u-data-1:/var/lib/zookeeper",
                              f"{members.settings}/ensemble:/etc/zookeeper/ensemble:ro",
                              f"{members.settings}/admin:/etc/zookeeper/admin:ro"]
    members.destroy()


def test_a_member_of_a_rendered_profile_runs_as_its_pod():
    template = pod_template(render(Profile("overlay", "kind")), "overlay-kind")
    engine = FakeEngine()
    members = Ensemble(engine, template=template, prefix="kz-smoke-x", max_members=5)
    members.create()
    members.run_member(0)
    run = engine.runs["kz-smoke-x-zookeeper-0"]
    assert (run["image"], run["command"], run["user"], run["read_only"]) == (
        template.image, template.command, "1000:0", True)
    assert run["env"] == template.env and sorted(run["tmpfs"]) == ["/opt/zookeeper/conf", "/tmp"]
    assert len(run["add_hosts"]) == 5  # room for the members a scale creates
    assert "zookeeper-4.zookeeper-headless.default.svc.cluster.local" in run["add_hosts"]
    members.destroy()


def test_a_template_and_the_image_defaults_do_not_mix(engine):
    with pytest.raises(ValueError, match="change a template instead"):
        Ensemble(engine, template=image_template(), user="1:0")


def test_one_subnet_allocator_skips_taken_subnets(monkeypatch):
    monkeypatch.setattr(ensemble_module.random, "randrange", lambda n: n - 1)  # start at the last: wraps around
    engine = FakeEngine(taken={"10.89.249.0/24", "10.89.100.0/24"})
    members = Ensemble(engine, prefix="kzk-u")
    members.create_network()
    assert [call[1] for call in engine.verbs("network_create")] == ["10.89.249.0/24", "10.89.100.0/24",
                                                                     "10.89.101.0/24"]
    assert members.subnet == "10.89.101.0/24" and members.address(2) == "10.89.101.12"


def test_every_subnet_taken_is_one_error_naming_the_network():
    engine = FakeEngine(taken={f"10.89.{n}.0/24" for n in range(100, 250)})
    with pytest.raises(UserError, match=r"(?s)could not create network kzk-u-net: 20 subnets .* already used"):
        Ensemble(engine, prefix="kzk-u").create_network()


def test_settings_are_replaced_whole_and_read_only(engine):
    members = Ensemble(engine, prefix="kzk-u", max_members=5)
    members.create()
    replicas = members.settings / "ensemble" / "replicas"
    password = members.settings / "admin" / "password"
    assert replicas.read_text() == "3\n"
    assert len(password.read_text()) >= 24 and password.read_text() == members.password
    assert stat.S_IMODE(replicas.stat().st_mode) == 0o444
    inode = replicas.stat().st_ino
    members.scale(5)
    assert replicas.read_text() == "5\n" and replicas.stat().st_ino != inode  # a new file, renamed into place
    assert password.read_text() == members.password  # the same password for the whole run
    assert not list(Path(members.settings).rglob(".*.partial"))
    members.destroy()
    assert not members.settings.exists()


def test_scale_creates_and_deletes_members_and_keeps_volumes(engine):
    members = Ensemble(engine, prefix="kzk-u", size=3, max_members=5)
    members.create()
    members.start_all()
    members.scale(5)
    assert sorted(engine.runs) == [f"kzk-u-zookeeper-{n}" for n in range(5)]
    members.scale(3)
    assert engine.verbs("rm")[-2:] == [("kzk-u-zookeeper-4",), ("kzk-u-zookeeper-3",)]  # highest ordinal first
    assert not engine.verbs("volume_rm")  # their volumes stay, as PVCs do
    with pytest.raises(UserError, match="1 to 5 members, not 6"):
        members.scale(6)
    kept = members.destroy(keep_volumes=True)
    assert kept == [f"kzk-u-data-{n}" for n in range(5)] and not engine.verbs("volume_rm")
    assert ("kzk-u-net",) in engine.verbs("network_rm")


def test_destroy_removes_every_volume_it_created(engine):
    members = Ensemble(engine, prefix="kzk-u")
    members.create()
    members.start_all()
    members.replace(1)  # deleted and created again on the same volume
    assert engine.verbs("volume_create") == [(f"kzk-u-data-{n}",) for n in range(3)]
    assert members.destroy() == []
    assert engine.verbs("volume_rm") == [(f"kzk-u-data-{n}",) for n in range(3)]
