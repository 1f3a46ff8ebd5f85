"""The small surface every smoke target implements; the scenario knows nothing else about where members run."""

from __future__ import annotations

from abc import ABC, abstractmethod

from tools.base.run import Result


class Target(ABC):
    """A three-member ensemble somewhere: containers on the host, or a StatefulSet on a cluster.

    Members are numbered 0..members-1 like StatefulSet ordinals. `stop` takes members away from the highest
    ordinal down (all a StatefulSet can do without the controller putting them straight back); `start` brings the
    stopped ones back together, on their own volumes.
    """

    members = 3

    @abstractmethod
    def describe(self) -> str:
        """One line: where the ensemble runs (for the report)."""

    @abstractmethod
    def deploy(self) -> None:
        """Create the ensemble on fresh volumes and return once every member has been started."""

    @abstractmethod
    def exec(self, member: int, argv: list[str], timeout: float) -> Result:
        """Run argv inside the member; never raises for a non-zero exit or a member that is down."""

    @abstractmethod
    def stop(self, member: int) -> None:
        """Take the member away (it stays down until `start`)."""

    @abstractmethod
    def start(self, members: list[int]) -> None:
        """Bring stopped members back on their own volumes."""

    @abstractmethod
    def remove_ensemble(self) -> None:
        """Delete every member but keep their data volumes."""

    @abstractmethod
    def recreate_ensemble(self) -> None:
        """Create the ensemble again on the volumes `remove_ensemble` kept."""

    @abstractmethod
    def teardown(self, keep_volumes: bool) -> None:
        """Remove everything the run created (volumes too unless keep_volumes); safe after a partial deploy."""
