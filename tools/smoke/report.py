"""The smoke report: a table for the terminal and the same facts as JSON."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from tools.smoke.scenario import Report

_TIMING_LABELS = {
    "quorum_at_start": "quorum at start",
    "quorum_after_first_stop": "quorum after one member stopped",
    "quorum_lost": "quorum lost after a second stopped",
    "write_refused_after": "write refused after",
    "recovery": "quorum back after the restart",
    "quorum_after_recreate": "quorum after the recreate",
    "cluster_up": "cluster up (nox -s cluster -- up)",
    "apply_to_rollout": "apply to rollout complete",
    "drain": "drain/eviction to all Ready again",
    "rolling_update": "rolling update",
    "scale_3_to_5": "scale 3 -> 5 (all five voters agree)",
    "scale_5_to_3": "scale 5 -> 3 (three voters agree)",
    "rolling_update_again": "second rolling restart",
    "scale_up": "scale 3 -> 5 on the cluster (all 5 Ready)",
    "scale_down": "scale 5 -> 3 on the cluster (pods gone)",
    "scale_down_voters": "scale 5 -> 3 on the cluster to three voters (the leader removed the gone)",
    "kill_mid_scale": "scale 3 -> 5 with the leader killed -9",
    "pod_back_ready": "a deleted member back Ready with quorum",
    "reapply_to_quorum": "apply after the delete to quorum",
    "real_node_ready": "real node Ready after its start (images imported)",
    "scenario_wall": "scenario wall time",
}
_MEASUREMENT_LABELS = {
    "writes_acknowledged": "writes acknowledged",
    "acknowledged_writes_lost": "acknowledged writes lost",
    "writes_acknowledged_without_quorum": "writes acknowledged without a quorum",
    "longest_write_gap_seconds": "longest write gap (s)",
    "unavailable_seconds": "unavailable (gaps >= 1 s), total (s)",
    "elections_per_rolling_update": "leader elections per rolling restart",
    "leader_before_rolling_update": "leader when each rolling restart began",
}


def table(report: Report) -> str:
    width = max(len(step.name) for step in report.steps)
    title = f"{report.profile} on {report.target}" if report.profile else report.target
    lines = [f"smoke report: {title}", f"{'step':{width}}  result   seconds  detail"]
    for step in report.steps:
        lines.append(f"{step.name:{width}}  {step.result:7} {step.seconds:8.1f}  {step.detail}")
    leaders = ", ".join(f"{when}: member {leader}" for when, leader in report.leaders.items() if leader is not None)
    if leaders:
        lines.append(f"leader: {leaders}")
    for key, label in _TIMING_LABELS.items():
        if key in report.timings:
            lines.append(f"{label}: {report.timings[key]:.1f} s")
    for key, label in _MEASUREMENT_LABELS.items():
        if key in report.measurements:
            lines.append(f"{label}: {report.measurements[key]}")
    failed = report.failed_step
    lines.append("result: " + ("passed" if report.ok else f"FAILED at {failed.name if failed else 'no step'}"))
    return "\n".join(lines)


def write_json(report: Report, path: Path) -> None:
    """Write atomically: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        json.dump(report.as_dict(), handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)
