"""The rolling update's writer: the one Writer, over kazoo where the pods are reachable, else kubectl exec."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tools.cli import zookeeper
from tools.smoke import writer
from tools.smoke.scenarios.kube import update

SERVICES = [
    {"spec": {"clusterIP": "None", "ports": [{"port": 2181}]}},  # the headless Service
    {"spec": {"clusterIP": "10.96.0.7", "ports": [{"port": 2181}]}},  # the client Service
    {"spec": {"clusterIP": "10.96.0.8", "ports": [{"port": 7000}]}},  # metrics
]
PODS = [{"metadata": {"name": f"zookeeper-{n}"}, "status": {"podIP": f"10.250.0.{10 + n}"}} for n in range(3)]


class Scenario:
    kube = SimpleNamespace(members=3)
    target = SimpleNamespace(exec=lambda member, argv, timeout: None)

    def get_json(self, kind):
        assert kind == "services"
        return SERVICES

    def pods(self):
        return PODS


@pytest.mark.parametrize(("answers", "transport"), [("imok", writer.KazooTransport), ("", writer.ExecTransport)])
def test_the_writer_goes_over_kazoo_only_where_the_pods_answer(monkeypatch, answers, transport):
    asked = []
    monkeypatch.setattr(zookeeper, "four_letter_at", lambda address, word: asked.append(address) or answers)
    chosen = update.cluster_writer(Scenario(), "/kz-writer-test")
    assert isinstance(chosen.transport, transport) and asked == ["10.250.0.10"]
    assert chosen.root == "/kz-writer-test"
    if transport is writer.KazooTransport:
        assert chosen.transport.client.hosts == [("10.96.0.7", 2181)]  # the client Service, not the headless one
        assert chosen.transport.hosts() == {n: f"10.250.0.{10 + n}:2181" for n in range(3)}
        chosen.transport.close()
