"""The `image` section:

- image build, cold (no layer cache; base image present) and warm (every layer cached), and the image size;
- container start -> a serving three-member quorum (every member's readiness probe passes), best and median of
  STARTS fresh ensembles (--repeat sets how many), and where the time of the middle one went (from each member's
  log and its container start);
- RSS per member at the kind profile's settings (heap 256M, memory limit 512 MiB), idle after the quorum formed and
  after 2000 writes of 512-byte znodes through one zkCli.sh session (also timed);
- probe reliability: 1000 consecutive `ready_live.sh 2181 live` and `... ready` runs inside a healthy member
  (where kubelet runs them), counting false failures, and their mean duration.
All traffic stays inside the containers this run creates; everything is removed at the end.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from tools.base import progress
from tools.base.contract import CLIENT_PORT, PROBE_SCRIPT
from tools.base.errors import UserError
from tools.bench import timing
from tools.bench.measure import Measure, Options
from tools.bench.memory import vm_rss_mib
from tools.cli.engine import Engine
from tools.image import build as image_build
from tools.image.ensemble import Ensemble

PROBE_RUNS = 1000
WRITES = 2000
KIND_HEAP = "256M"
KIND_MEMORY_LIMIT = "512m"
STARTS = 3
# What each member logs on its way to a quorum, in order: (phase that ends there, pattern in its log).
MILESTONES = [
    ("container start -> JVM read zoo.cfg (JVM start, logging)", r"Reading configuration from"),
    ("zoo.cfg -> client port bound (metrics endpoint, server init)", r"binding to port"),
    ("client port -> looking for a leader (quorum peer, TLS defaults, snapshot)", r" - LOOKING$"),
    ("looking -> elected (FastLeaderElection; waits for the peers)", r"(LEADING|FOLLOWING) - LEADER ELECTION TOOK"),
]


def _probe_loop(ensemble: Ensemble, member: int, mode: str, runs: int) -> tuple[int, float]:
    """(false failures, mean ms per run) of `runs` consecutive probes, looped inside the member."""
    script = (
        f"fail=0; start=$(date +%s%N); for _ in $(seq {runs}); do {PROBE_SCRIPT} {CLIENT_PORT} {mode} 2>/dev/null || "
        'fail=$((fail+1)); done; end=$(date +%s%N); echo "$fail $(( (end-start) / 1000 ))"'
    )
    result = ensemble.engine.exec(ensemble.name(member), ["bash", "-c", script], timeout=runs * 5)
    fails, micros = result.stdout.split()
    return int(fails), int(micros) / 1000 / runs


def _write_load(ensemble: Ensemble, member: int, count: int) -> float:
    """Seconds for `count` creates of 512-byte znodes through one zkCli.sh session reading commands from stdin."""
    script = (
        f'value=$(head -c 512 /dev/zero | tr "\\0" x); for i in $(seq {count}); do echo "create /bench-$i $value"; '
        f"done | zkCli.sh -server 127.0.0.1:{CLIENT_PORT}"
    )
    started = time.monotonic()
    result = ensemble.engine.exec(ensemble.name(member), ["bash", "-c", script], timeout=600)
    seconds = time.monotonic() - started
    if result.code != 0 or f"Created /bench-{count}" not in result.stderr + result.stdout:
        raise UserError(f"the write load failed (exit {result.code}): {result.stderr[-500:]}")
    return seconds


def _rss_mib(ensemble: Ensemble, member: int) -> float:
    mib = vm_rss_mib(ensemble.engine.exec(ensemble.name(member), ["cat", "/proc/1/status"]).stdout)
    if mib is None:
        raise UserError(f"member {member} of the benchmark ensemble has no resident memory: did its JVM exit?")
    return mib


def bench_build(engine: Engine) -> list[Measure]:
    with progress.step("image build, cold (no layer cache)"):
        cold = image_build.build(engine, image_build.TAG, no_cache=True)
    with progress.step("image build, warm (every layer cached)"):
        warm = image_build.build(engine, image_build.TAG)
    size = engine.image_size(image_build.TAG) / 1024 / 1024
    return [
        Measure("image build, cold (no layer cache)", cold, "s"),
        Measure("image build, warm (layers cached)", warm, "s"),
        Measure("image size", size, "MiB"),
    ]


def _epoch(text: str) -> float:
    """Seconds since the epoch of a log line's '2026-11-26 06:38:22,527' or an engine's StartedAt (UTC)."""
    match = re.search(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)[.,](\d{3})", text)
    if not match:
        raise UserError(f"no timestamp in {text[:80]!r}")
    stamp = datetime.strptime(f"{match.group(1)} {match.group(2)}", "%Y-%m-%d %H:%M:%S")
    return stamp.replace(tzinfo=UTC).timestamp() + int(match.group(3)) / 1000


def _ready_at(ensemble: Ensemble, member: int, timeout: float) -> float:
    """Epoch at which the member's readiness probe first passed: one exec per member loops the probe inside it (the
    shared kernel clock), so the time is not inflated by an engine round trip per try."""
    loop = (f"end=$((SECONDS + {int(timeout)})); until {PROBE_SCRIPT} {CLIENT_PORT} ready 2>/dev/null; do "
            '((SECONDS < end)) || exit 1; sleep 0.02; done; date +%s.%N')  # fmt: skip
    result = ensemble.engine.exec(ensemble.name(member), ["bash", "-c", loop], timeout=timeout + 30)
    if result.code != 0:
        raise UserError(f"member {member} of the benchmark ensemble was not ready within {timeout:.0f} s")
    return float(result.stdout.strip())


def _start_once(engine: Engine, index: int, tag: str) -> dict[str, float]:
    """One fresh ensemble (kind settings): seconds from the first `run` to each phase's end; then removed."""
    ensemble = Ensemble(engine, tag, prefix=f"kzk-bench-{os.getpid()}-{index}", env={"ZOO_HEAP": KIND_HEAP},
                              memory=KIND_MEMORY_LIMIT)  # fmt: skip
    try:
        ensemble.create()
        with ThreadPoolExecutor(ensemble.size) as pool:
            started = time.time()
            waiting = []
            for member in range(ensemble.size):
                ensemble.run_member(member)
                waiting.append(pool.submit(_ready_at, ensemble, member, 120))
            ran = time.time()
            ready = [future.result() for future in waiting]
        members = []
        for member in range(ensemble.size):
            name = ensemble.name(member)
            times = [_epoch(engine.inspect(name, "{{.State.StartedAt}}"))]
            log = engine.logs(name).splitlines()
            for _, pattern in MILESTONES:
                line = next((line for line in log if re.search(pattern, line)), None)
                if line is None:
                    raise UserError(f"benchmark member {member} never logged /{pattern}/")
                times.append(_epoch(line))
            members.append(times)
    finally:
        ensemble.destroy()
    phases = {"runs": ran - started, "total": max(ready) - started}
    for step, (label, _) in enumerate(MILESTONES):
        phases[label] = statistics.mean(times[step + 1] - times[step] for times in members)
    phases["elected -> every readiness probe passes (sync, probe)"] = max(ready) - max(t[-1] for t in members)
    return phases


def bench_start(engine: Engine, starts: int, tag: str = image_build.TAG) -> list[Measure]:
    """Start to a serving quorum, `starts` times, with the phases of the median start (the middle one by total)."""
    runs = []
    for index in range(starts):
        with progress.step(f"fresh ensemble {index + 1} of {starts}: container start to a serving quorum"):
            runs.append(_start_once(engine, index, tag))
    runs.sort(key=lambda phases: phases["total"])
    middle = runs[len(runs) // 2]
    name = "container start -> serving 3-member quorum"
    measures = [Measure(f"{name}, best of {starts}", runs[0]["total"], "s"),
                Measure(f"{name}, median of {starts}", timing.median([run["total"] for run in runs]), "s"),
                Measure("middle start: 3 x `run` returned (first -> last)", middle["runs"], "s")]
    measures += [Measure(f"middle start: {label} (member mean)", middle[label], "s") for label, _ in MILESTONES]
    last = "elected -> every readiness probe passes (sync, probe)"
    return measures + [Measure(f"middle start: {last}", middle[last], "s")]


def bench_ensemble(engine: Engine, tag: str = image_build.TAG) -> list[Measure]:
    ensemble = Ensemble(
        engine, tag, prefix=f"kzk-bench-{os.getpid()}", env={"ZOO_HEAP": KIND_HEAP}, memory=KIND_MEMORY_LIMIT
    )
    try:
        with progress.step("an ensemble for memory and probes: start to serving, then 5 s to settle"):
            ensemble.create()
            ensemble.start_all()
            if not ensemble.wait(ensemble.serving, timeout=120, interval=0.05):
                raise UserError("the benchmark ensemble did not serve within 120 s")
            time.sleep(5)  # let start-up allocation settle before reading RSS
        rss = [_rss_mib(ensemble, member) for member in range(ensemble.size)]
        with progress.step(f"{WRITES} writes through one zkCli.sh session"):
            write_seconds = _write_load(ensemble, 0, WRITES)
        rss_loaded = [_rss_mib(ensemble, member) for member in range(ensemble.size)]
        with progress.step(f"{PROBE_RUNS} liveness and {PROBE_RUNS} readiness probes inside member 0"):
            live_fail, live_ms = _probe_loop(ensemble, 0, "live", PROBE_RUNS)
            ready_fail, ready_ms = _probe_loop(ensemble, 0, "ready", PROBE_RUNS)
    finally:
        ensemble.destroy()
    idle = f"heap {KIND_HEAP}, limit {KIND_MEMORY_LIMIT}"
    return [
        Measure(f"RSS per member, idle ({idle}), max", max(rss), "MiB"),
        Measure(f"RSS per member, idle ({idle}), mean", statistics.mean(rss), "MiB"),
        Measure(f"{WRITES} writes of 512 B through one zkCli.sh session", write_seconds, "s"),
        Measure(f"RSS per member after {WRITES} writes, max", max(rss_loaded), "MiB"),
        Measure(f"RSS per member after {WRITES} writes, mean", statistics.mean(rss_loaded), "MiB"),
        Measure(f"liveness probe false failures in {PROBE_RUNS} runs", live_fail, "", goal=0),
        Measure("liveness probe, mean time per run", live_ms, "ms"),
        Measure(f"readiness probe false failures in {PROBE_RUNS} runs", ready_fail, "", goal=0),
        Measure("readiness probe, mean time per run", ready_ms, "ms"),
    ]


def run(options: Options) -> list[Measure]:
    engine = Engine.detect()
    return bench_build(engine) + bench_start(engine, options.times(STARTS)) + bench_ensemble(engine)
