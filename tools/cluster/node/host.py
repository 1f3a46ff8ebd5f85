"""What the real node changes on the host, recorded before `up` and put back by `down`.

The kubelet rewrites global sysctls when it starts, kube-proxy and the CNI plugins add iptables chains, the bridge
plugin a bridge, the kubelet its `kubepods` cgroups, containerd its mounts and a socket directory under /run. A
Snapshot records what was there before; `restore` undoes only what is new, and `leftovers` says what is still there
(every line a thing `down` could not remove).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tools.base.run import run

# The sysctls the kubelet sets at start (protectKernelDefaults is off) and the ones kube-proxy may touch.
SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/conf/all/route_localnet",
    "net/bridge/bridge-nf-call-iptables",
    "net/netfilter/nf_conntrack_max",
)
CHAIN_PREFIXES = ("KUBE-", "CNI-")  # the chains kube-proxy, the kubelet and the CNI plugins create
CGROUP_ROOT = Path("/sys/fs/cgroup")
KUBEPODS = "kubepods"  # the kubelet's cgroup (cgroupfs driver, cgroupRoot "/")
SHARED_DIRS = (Path("/run/containerd"), Path("/var/lib/cni"))  # created by containerd's shims and libcni


@dataclass
class Snapshot:
    sysctls: dict[str, str] = field(default_factory=dict)
    chains: dict[str, list[str]] = field(default_factory=dict)  # "iptables:nat" -> chain names
    links: list[str] = field(default_factory=list)
    cgroups: list[str] = field(default_factory=list)  # kubepods dirs that existed before
    dirs: list[str] = field(default_factory=list)  # SHARED_DIRS that existed before

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Snapshot | None:
        return cls(**json.loads(path.read_text())) if path.exists() else None


def take() -> Snapshot:
    return Snapshot(
        sysctls=read_sysctls(),
        chains=iptables_chains(),
        links=links(),
        cgroups=[str(p) for p in kubepods_cgroups()],
        dirs=[str(d) for d in SHARED_DIRS if d.exists()],
    )


def read_sysctls() -> dict[str, str]:
    values = {}
    for name in SYSCTLS:
        with contextlib.suppress(OSError):
            values[name] = Path("/proc/sys", name).read_text().strip()
    return values


def iptables_chains() -> dict[str, list[str]]:
    """Chain names per (command, table), from iptables-save and ip6tables-save."""
    found: dict[str, list[str]] = {}
    for command in ("iptables", "ip6tables"):
        result = run([f"{command}-save"], check=False, timeout=60)
        if result.code != 0:
            continue
        table = ""
        for line in result.stdout.splitlines():
            if line.startswith("*"):
                table = line[1:]
                found.setdefault(f"{command}:{table}", [])
            elif line.startswith(":"):
                found[f"{command}:{table}"].append(line[1:].split()[0])
    return found


def rules_jumping_to(command: str, table: str, chains: set[str]) -> list[list[str]]:
    """`-A CHAIN ...` rules (as argv after -A) that jump to one of chains, from the table's save output."""
    result = run([f"{command}-save", "-t", table], check=False, timeout=60)
    rules = []
    for line in result.stdout.splitlines():
        match = re.match(r"-A (\S+) (.*)", line)
        if match and match.group(1) not in chains:
            target = re.search(r"(?:-j|--jump|-g|--goto) (\S+)", match.group(2))
            if target and target.group(1) in chains:
                rules.append([match.group(1), *shlex.split(match.group(2))])
    return rules


def links() -> list[str]:
    return sorted(os.listdir("/sys/class/net"))


def kubepods_cgroups() -> list[Path]:
    """Every kubepods cgroup directory, deepest first, in every hierarchy (v1 controllers, or v2's one)."""
    found = []
    for top in [CGROUP_ROOT / KUBEPODS, *CGROUP_ROOT.glob(f"*/{KUBEPODS}")]:
        if top.is_dir():
            found += [Path(dirpath) for dirpath, _, _ in os.walk(top)]
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def mounts_under(root: Path) -> list[Path]:
    """Mount points at or below root, deepest first (from /proc/self/mountinfo)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = Path(line.split()[4].replace("\\040", " "))
        if point == root or root in point.parents:
            found.append(point)
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def cgroup_access() -> str:
    """'' when this process can create cgroups (what the kubelet and runc need), else why not."""
    hierarchies = [CGROUP_ROOT / "memory", CGROUP_ROOT / "cpu", CGROUP_ROOT / "pids"]
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        hierarchies = [CGROUP_ROOT]
    for hierarchy in hierarchies:
        if not hierarchy.is_dir():
            return f"no {hierarchy} cgroup hierarchy is mounted"
        probe = hierarchy / f"kube-zookeeper-probe-{os.getpid()}"
        try:
            probe.mkdir()
            probe.rmdir()
        except OSError as exc:
            return f"cannot create a cgroup in {hierarchy} ({exc.strerror})"
    return ""


def restore(before: Snapshot, bridge: str) -> list[str]:
    """Undo what is new since `before`; returns one line per thing done."""
    done = []
    removed = 0
    for path in kubepods_cgroups():
        if str(path) in before.cgroups:
            continue
        with contextlib.suppress(OSError):
            path.rmdir()
            removed += 1
    if removed:
        done.append(f"removed {removed} {KUBEPODS} cgroup(s)")
    if bridge in links() and bridge not in before.links:
        run(["ip", "link", "delete", bridge], check=False, timeout=30)
        done.append(f"deleted bridge {bridge}")
    done += remove_new_chains(before)
    for name, value in before.sysctls.items():
        path = Path("/proc/sys", name)
        with contextlib.suppress(OSError):
            if path.read_text().strip() != value:
                path.write_text(value)
                done.append(f"restored {name.replace('/', '.')} = {value}")
    for directory in SHARED_DIRS:
        if str(directory) not in before.dirs and directory.exists():
            for sub in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):
                    sub.rmdir() if sub.is_dir() and not sub.is_symlink() else sub.unlink()
            with contextlib.suppress(OSError):
                directory.rmdir()
                done.append(f"removed {directory}")
    return done


def remove_new_chains(before: Snapshot) -> list[str]:
    done = []
    for key, chains in iptables_chains().items():
        command, table = key.split(":", 1)
        new = {c for c in chains if c.startswith(CHAIN_PREFIXES) and c not in before.chains.get(key, [])}
        if not new:
            continue
        for rule in rules_jumping_to(command, table, new):
            run([command, "-w", "-t", table, "-D", *rule], check=False, timeout=30)
        for chain in sorted(new):
            run([command, "-w", "-t", table, "-F", chain], check=False, timeout=30)
        for chain in sorted(new):
            run([command, "-w", "-t", table, "-X", chain], check=False, timeout=30)
        done.append(f"removed {len(new)} {command} {table} chain(s)")
    return done


def leftovers(before: Snapshot, bridge: str, root: Path) -> list[str]:
    """What the node left behind: empty when `down` cleaned up everything it made."""
    left = [f"cgroup {p}" for p in kubepods_cgroups() if str(p) not in before.cgroups]
    if bridge in links() and bridge not in before.links:
        left.append(f"bridge {bridge}")
    for key, chains in iptables_chains().items():
        new = sorted(c for c in chains if c.startswith(CHAIN_PREFIXES) and c not in before.chains.get(key, []))
        if new:
            left.append(f"{key.replace(':', ' table ')} chains {', '.join(new)}")
    left += [f"mount {p}" for p in mounts_under(root)]
    now = read_sysctls()
    left += [
        f"sysctl {name.replace('/', '.')} = {now[name]} (was {value})"
        for name, value in before.sysctls.items()
        if now.get(name, value) != value
    ]
    left += [f"directory {d}" for d in SHARED_DIRS if d.exists() and str(d) not in before.dirs]
    return left
