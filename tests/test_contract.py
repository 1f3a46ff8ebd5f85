"""tools/base/contract.py says what image/ and base/ say: the mounts, ports, defaults and script names."""

import re

import yaml

from tools import REPO_ROOT
from tools.base import contract

IMAGE = REPO_ROOT / "image"


def statefulset_container() -> dict:
    (sts,) = [d for d in yaml.safe_load_all((REPO_ROOT / "base" / "statefulset.yaml").read_text())
              if d and d["kind"] == "StatefulSet"]
    return sts["spec"]["template"]["spec"]["containers"][0]


def test_the_base_mounts_and_ports_are_the_contract_s():
    container = statefulset_container()
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {contract.ENSEMBLE_DIR, contract.ADMIN_DIR, contract.DATA_VOLUME_DIR, contract.CONF_DIR} <= mounts
    ports = {p["containerPort"] for p in container["ports"]}
    assert ports == {contract.CLIENT_PORT, contract.SERVER_PORT, contract.ELECTION_PORT, contract.METRICS_PORT}


def test_the_image_s_defaults_are_the_contract_s():
    start = (IMAGE / "start.sh").read_text()
    defaults = dict(re.findall(r'^\s*: "\$\{(ZOO_\w+)=([^}]*)\}"', start, re.MULTILINE))
    assert defaults["ZOO_CLIENT_PORT"] == str(contract.CLIENT_PORT)
    assert defaults["ZOO_SERVER_PORT"] == str(contract.SERVER_PORT)
    assert defaults["ZOO_ELECTION_PORT"] == str(contract.ELECTION_PORT)
    assert defaults["ZOO_METRICS_PORT"] == str(contract.METRICS_PORT)
    assert defaults["ZOO_DATA_DIR"] == contract.DATA_DIR
    assert defaults["ZOO_CONF_DIR"] == "$ZK_HOME/conf"
    assert contract.CONF_DIR.removeprefix(contract.ZK_HOME) == "/conf"
    assert f"ZK_HOME={contract.ZK_HOME}" in (IMAGE / "Dockerfile").read_text()
    ensemble = (IMAGE / "ensemble.sh").read_text()
    assert f": \"${{ZOO_ADMIN_PASSWORD_FILE:={contract.ADMIN_DIR}/{contract.ADMIN_KEY}}}\"" in ensemble
    assert f": \"${{ZOO_REPLICAS_FILE:={contract.ENSEMBLE_DIR}/{contract.ENSEMBLE_KEY}}}\"" in ensemble


def test_the_scripts_named_are_the_image_s():
    for script in (contract.PROBE_SCRIPT, contract.METRICS_SCRIPT):
        assert (IMAGE / script).is_file(), script
