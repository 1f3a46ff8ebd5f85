"""Image benchmarks: `run() -> [(name, value with unit)]`; `python -m tools.image_bench` prints them.

- image build, cold (no layer cache; base image present) and warm (every layer cached), and the image size;
- container start -> a serving three-member quorum (every member's readiness probe passes);
- RSS per member at the kind profile's settings (heap 256M, memory limit 512 MiB), idle after the quorum formed and
  after 2000 writes of 512-byte znodes through one zkCli.sh session (also timed);
- probe reliability: 1000 consecutive `ready_live.sh 2181 live` and `... ready` runs inside a healthy member
  (where kubelet runs them), counting false failures, and their mean duration.
All traffic stays inside the containers this run creates; everything is removed at the end.
"""

from __future__ import annotations

import os
import time

from tools import image
from tools.engine import Engine
from tools.errors import UserError, cli

PROBE_RUNS = 1000
WRITES = 2000
KIND_HEAP = "256M"
KIND_MEMORY_LIMIT = "512m"


def _probe_loop(ensemble: image.Ensemble, member: int, mode: str, runs: int) -> tuple[int, float]:
    """(false failures, mean ms per run) of `runs` consecutive probes, looped inside the member."""
    script = (
        f"fail=0; start=$(date +%s%N); for _ in $(seq {runs}); do ready_live.sh 2181 {mode} 2>/dev/null || "
        'fail=$((fail+1)); done; end=$(date +%s%N); echo "$fail $(( (end-start) / 1000 ))"'
    )
    result = ensemble.engine.exec(ensemble.name(member), ["bash", "-c", script], timeout=runs * 5)
    fails, micros = result.stdout.split()
    return int(fails), int(micros) / 1000 / runs


def _write_load(ensemble: image.Ensemble, member: int, count: int) -> float:
    """Seconds for `count` creates of 512-byte znodes through one zkCli.sh session reading commands from stdin."""
    script = (
        f'value=$(head -c 512 /dev/zero | tr "\\0" x); for i in $(seq {count}); do echo "create /bench-$i $value"; '
        "done | zkCli.sh -server 127.0.0.1:2181"
    )
    started = time.monotonic()
    result = ensemble.engine.exec(ensemble.name(member), ["bash", "-c", script], timeout=600)
    seconds = time.monotonic() - started
    if result.code != 0 or f"Created /bench-{count}" not in result.stderr + result.stdout:
        raise UserError(f"the write load failed (exit {result.code}): {result.stderr[-500:]}")
    return seconds


def _rss_mib(ensemble: image.Ensemble, member: int) -> float:
    status = ensemble.engine.exec(ensemble.name(member), ["cat", "/proc/1/status"]).stdout
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kib) / 1024


def bench_build(engine: Engine) -> list[tuple[str, str]]:
    cold = image.build(engine, image.TAG, no_cache=True)
    warm = image.build(engine, image.TAG)
    size = engine.image_size(image.TAG) / 1024 / 1024
    return [
        ("image build, cold (no layer cache)", f"{cold:.1f} s"),
        ("image build, warm (layers cached)", f"{warm:.1f} s"),
        ("image size", f"{size:.0f} MiB"),
    ]


def bench_ensemble(engine: Engine) -> list[tuple[str, str]]:
    ensemble = image.Ensemble(
        engine, prefix=f"kzk-bench-{os.getpid()}", env={"ZOO_HEAP": KIND_HEAP}, memory=KIND_MEMORY_LIMIT
    )
    try:
        ensemble.create()
        started = time.monotonic()
        ensemble.start_all()
        if not ensemble.wait(ensemble.serving, timeout=120, interval=0.05):
            raise UserError("the benchmark ensemble did not serve within 120 s")
        quorum = time.monotonic() - started
        time.sleep(5)  # let start-up allocation settle before reading RSS
        rss = [_rss_mib(ensemble, member) for member in range(ensemble.size)]
        write_seconds = _write_load(ensemble, 0, WRITES)
        rss_loaded = [_rss_mib(ensemble, member) for member in range(ensemble.size)]
        live_fail, live_ms = _probe_loop(ensemble, 0, "live", PROBE_RUNS)
        ready_fail, ready_ms = _probe_loop(ensemble, 0, "ready", PROBE_RUNS)
    finally:
        ensemble.destroy()
    return [
        ("container start -> serving 3-member quorum", f"{quorum:.1f} s"),
        (f"RSS per member, idle (heap {KIND_HEAP}, limit {KIND_MEMORY_LIMIT})", f"{max(rss):.0f} MiB max, "
         f"{sum(rss) / len(rss):.0f} MiB mean"),
        (f"{WRITES} writes of 512 B through one zkCli.sh session", f"{write_seconds:.1f} s"),
        (f"RSS per member after {WRITES} writes", f"{max(rss_loaded):.0f} MiB max, "
         f"{sum(rss_loaded) / len(rss_loaded):.0f} MiB mean"),
        (f"liveness probe false failures in {PROBE_RUNS} runs", f"{live_fail} ({live_ms:.1f} ms per run)"),
        (f"readiness probe false failures in {PROBE_RUNS} runs", f"{ready_fail} ({ready_ms:.1f} ms per run)"),
    ]  # fmt: skip


def run() -> list[tuple[str, str]]:
    engine = Engine.detect()
    results = bench_build(engine)
    return results + bench_ensemble(engine)


@cli
def main() -> int:
    for name, value in run():
        print(f"{name:<60} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
