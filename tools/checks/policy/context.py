"""One profile's objects, indexed for the rules, and the ZooKeeper settings a container really gets."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from tools.checks.policy.model import (
    LAPTOP_TYPES,
    Container,
    Path,
    command_item,
    command_text,
    format_path,
    get,
    get_list,
    get_map,
    jvm_bytes,
)
from tools.render.manifests import Manifest

JVM_OPTION_VARS = ("ZOO_JVM_FLAGS", "JVMFLAGS", "SERVER_JVMFLAGS", "JAVA_OPTS", "JAVA_TOOL_OPTIONS")
FOUR_LETTER_WORDS = {"conf", "cons", "crst", "dump", "envi", "ruok", "srst", "srvr", "stat", "wchs", "wchc", "wchp",
                     "mntr", "isro", "hash", "gtmk", "stmk", "dirs"}
DEFAULT_WHITELIST = frozenset({"srvr"})  # ZooKeeper >= 3.5 without 4lw.commands.whitelist


@dataclass(frozen=True)
class Setting:
    """A value and the object field it is set in."""

    value: str
    manifest: Manifest
    path: Path

    @property
    def where(self) -> str:
        return f"{self.manifest.ref} {format_path(self.manifest.doc, self.path)}"


class Context:
    def __init__(self, profile: str, profile_type: str, manifests: list[Manifest], source: str | None = None):
        self.profile = profile
        self.profile_type = profile_type
        self.source = source  # "overlay" or "chart" for a rendered profile; None for files checked as they are
        self.manifests = manifests
        self.by_kind: dict[str, list[Manifest]] = defaultdict(list)
        for manifest in manifests:
            self.by_kind[manifest.kind].append(manifest)
        self._env_cache: dict[int, dict[str, Setting]] = {}

    @property
    def is_laptop(self) -> bool:
        return self.profile_type in LAPTOP_TYPES

    def named(self, kind: str, name) -> Manifest | None:
        return next((m for m in self.by_kind[kind] if m.name == name), None)

    # --- what start.sh and ZooKeeper see ---------------------------------------------------------------------

    def env(self, container: Container) -> dict[str, Setting]:
        """The container's environment: envFrom ConfigMaps first, then env (which wins), with where each is set."""
        key = id(container.spec)
        if key in self._env_cache:
            return self._env_cache[key]
        result: dict[str, Setting] = {}
        for source in get_list(container.spec, ("envFrom",)):
            config_map = self.named("ConfigMap", get(source, ("configMapRef", "name")))
            prefix = str(get(source, ("prefix",)) or "")
            for name, value in (get_map(config_map.doc, ("data",)) if config_map else {}).items():
                result[prefix + str(name)] = Setting(str(value), config_map, ("data", name))
        for index, var in enumerate(get_list(container.spec, ("env",))):
            if not isinstance(var, dict):
                continue
            name = str(var.get("name"))
            if "value" in var:
                result[name] = Setting(str(var["value"]), container.manifest, (*container.path, "env", index, "value"))
            elif ref := get_map(var, ("valueFrom", "configMapKeyRef")):
                config_map = self.named("ConfigMap", ref.get("name"))
                data = get_map(config_map.doc, ("data",)) if config_map else {}
                if ref.get("key") in data:
                    result[name] = Setting(str(data[ref["key"]]), config_map, ("data", ref["key"]))
        self._env_cache[key] = result
        return result

    def flag(self, container: Container, name: str) -> Setting | None:
        """`--name=value` (or `--name value`) in command/args, as start.sh takes the tutorial's flags."""
        match = re.search(rf"--{name}[= ]([^\s\"']+)", command_text(container))
        if not match:
            return None
        return Setting(match.group(1), container.manifest, command_item(container, rf"--{name}\b"))

    def heap_settings(self, container: Container, limit: float) -> list[tuple[float, str, Setting]]:
        """Every heap size the container sets, as (bytes, how it is set, where): --heap (else ZOO_HEAP), and -Xmx
        or -XX:MaxRAMPercentage (a share of `limit`) in the JVM option variables or the command."""
        found = []
        env = self.env(container)
        setting = self.flag(container, "heap") or env.get("ZOO_HEAP")  # the flag wins, as in start.sh
        if setting and jvm_bytes(setting.value) is not None:
            found.append((jvm_bytes(setting.value), setting.value, setting))
        sources = [env[var] for var in JVM_OPTION_VARS if var in env]
        if re.search(r"-Xmx|MaxRAMPercentage", command_text(container)):
            item = command_item(container, r"-Xmx|MaxRAMPercentage")
            sources.append(Setting(command_text(container), container.manifest, item))
        for source in sources:
            for match in re.finditer(r"-Xmx([0-9]+[kKmMgGtT]?)\b", source.value):
                found.append((jvm_bytes(match.group(1)), match.group(0), source))
            for match in re.finditer(r"-XX:MaxRAMPercentage=([0-9.]+)", source.value):
                found.append((limit * float(match.group(1)) / 100, match.group(0), source))
        return found

    def whitelist(self, container: Container) -> tuple[frozenset[str], Setting | None]:
        """The 4lw whitelist ZooKeeper gets, and where it is set (None: not set, ZooKeeper's default applies)."""
        env = self.env(container)
        setting = env.get("ZOO_4LW_COMMANDS_WHITELIST")
        if setting is None:
            for var in JVM_OPTION_VARS:
                if var in env and (m := re.search(r"-Dzookeeper\.4lw\.commands\.whitelist=(\S+)", env[var].value)):
                    setting = Setting(m.group(1), env[var].manifest, env[var].path)
                    break
        if setting is None:
            setting = self._whitelist_in_config_files(container)
        if setting is None:
            return DEFAULT_WHITELIST, None
        return frozenset(w.strip() for w in re.split(r"[,\s]+", setting.value) if w.strip()), setting

    def unseen_config_maps(self, container: Container) -> str:
        """A note naming ConfigMaps the container reads that are not among the checked objects ('' if none)."""
        names = [get(s, ("configMapRef", "name")) for s in get_list(container.spec, ("envFrom",))]
        names += [get(v, ("valueFrom", "configMapKeyRef", "name")) for v in get_list(container.spec, ("env",))]
        names += [get(v, ("configMap", "name")) for v in get_list(container.manifest.doc,
                                                                 (*container.pod_path, "volumes"))]
        missing = sorted({str(n) for n in names if n and self.named("ConfigMap", n) is None})
        if not missing:
            return ""
        return (f" (it reads ConfigMap {', '.join(missing)}, which is not among the checked objects: check the "
                "files together)")

    def _whitelist_in_config_files(self, container: Container) -> Setting | None:
        """`4lw.commands.whitelist=` in a zoo.cfg held by a ConfigMap the pod mounts or reads."""
        names = [get(s, ("configMapRef", "name")) for s in get_list(container.spec, ("envFrom",))]
        names += [get(v, ("configMap", "name")) for v in get_list(container.manifest.doc,
                                                                 (*container.pod_path, "volumes"))]
        for config_map in filter(None, (self.named("ConfigMap", n) for n in names if n)):
            for key, value in get_map(config_map.doc, ("data",)).items():
                if m := re.search(r"^\s*4lw\.commands\.whitelist\s*=\s*(.*)$", str(value), re.MULTILINE):
                    return Setting(m.group(1), config_map, ("data", key))
        return None


def probe_words(command: list) -> set[str]:
    """The four-letter words a probe command sends: via the image's scripts or literally (echo ruok | nc ...)."""
    text = " ".join(str(part) for part in command)
    words = set()
    for match in re.finditer(r"ready_live\.sh(?:\s+['\"]?([^\s'\"]+)['\"]?)?(?:\s+['\"]?(live|ready)\b)?", text):
        words.add("srvr" if match.group(2) == "ready" else "ruok")
    if re.search(r"metrics\.sh", text):
        words.add("mntr")
    if re.search(r"zkServer\.sh\s+status", text):
        words.add("srvr")
    if re.search(r"zkOk\.sh", text):
        words.add("ruok")
    for match in re.finditer(r"\b(?:echo|printf)\s+(?:-[ne]+\s+)*['\"]?([a-z]{4})\b", text):
        if match.group(1) in FOUR_LETTER_WORDS:
            words.add(match.group(1))
    return words
