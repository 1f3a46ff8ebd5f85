"""The built image with TLS on (the TLS files mounted), on a real three-member ensemble of containers: the quorum and
the elections over TLS, clients on the secure port with a certificate from the CA, nothing plaintext reachable from
outside a member, a renewed certificate served without a restart, and a member with another CA's certificate kept
out. The certificates are made with openssl (tests/certs.py), as a user makes the CA of `tls.existingSecret`."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl

from tests.certs import make_ca, make_member_cert
from tools.base.contract import CLIENT_PORT, ELECTION_PORT, SECURE_CLIENT_PORT, SERVER_PORT
from tools.cli.engine import Engine
from tools.image.ensemble import Ensemble

pytestmark = pytest.mark.slow

NAMESPACE = "kzk-test"  # image_template's: the members' FQDNs are zookeeper-N.zookeeper-headless.kzk-test.svc...
MEMBER_NAMES = [f"*.zookeeper-headless.{NAMESPACE}.svc.cluster.local", f"zookeeper.{NAMESPACE}.svc"]


def readable(directory: Path) -> Path:
    """Secret volumes are world-readable files (defaultMode 0444 in the manifests); openssl writes keys 0600."""
    for path in directory.iterdir():
        path.chmod(0o644)
    return directory


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    root = tmp_path_factory.mktemp("pki")
    ca = make_ca(root / "ca")
    return {
        "root": root,
        "ca": ca,
        "members": readable(make_member_cert(root / "members", ca, MEMBER_NAMES)),
        "client": readable(make_member_cert(root / "client", ca, ["writer.example"])),
        "other-ca": make_ca(root / "other-ca", "a CA the ensemble does not trust"),
    }


@pytest.fixture(scope="module")
def ensemble(engine: Engine, zk_image: str, pki):
    members = Ensemble(engine, zk_image, prefix=f"kzk-tls-{os.getpid()}", env={"ZOO_HEAP": "256M"},
                       memory="512m", tls=pki["members"], max_members=5)
    with members.running():
        yield members


def tls_client(pki, member_address: str, certificate: Path | None = None) -> KazooClient:
    kwargs = {"certfile": str(certificate / "tls.crt"), "keyfile": str(certificate / "tls.key")} if certificate else {}
    return KazooClient(hosts=f"{member_address}:{SECURE_CLIENT_PORT}", use_ssl=True, ca=str(pki["ca"] / "ca.crt"),
                       verify_certs=True, timeout=10, **kwargs)


def handshake(address: str, port: int, pki, certificate: Path | None, ask: bool = True) -> str:
    """A TLS handshake to address:port, optionally presenting a client certificate, then (ask) `srvr` and a read,
    where TLS 1.3 reports a refused client certificate: 'ok', or 'refused: <why>'."""
    context = ssl.create_default_context(cafile=str(pki["ca"] / "ca.crt"))
    context.check_hostname = False
    if certificate:
        context.load_cert_chain(str(certificate / "tls.crt"), str(certificate / "tls.key"))
    try:
        with socket.create_connection((address, port), timeout=5) as raw, context.wrap_socket(raw) as tls:
            if ask:
                tls.sendall(b"srvr")
                tls.recv(64)
            return "ok"
    except (OSError, ssl.SSLError) as error:
        return f"refused: {error}"


def plaintext_answer(address: str, port: int) -> str:
    """What a plaintext client gets from address:port: 'connection refused', '' (closed, nothing said) or bytes."""
    try:
        with socket.create_connection((address, port), timeout=5) as sock:
            sock.sendall(b"srvr")
            sock.settimeout(5)
            return sock.recv(256).decode(errors="replace")
    except ConnectionRefusedError:
        return "connection refused"
    except OSError as error:
        return f"{type(error).__name__}"


def test_the_members_form_a_quorum_over_tls_and_every_one_is_ready(ensemble):
    assert ensemble.wait(ensemble.serving, timeout=120)
    assert sorted(ensemble.mode(m) for m in range(3)) == ["follower", "follower", "leader"]
    assert all(ensemble.probe(m, "ready") for m in range(3))  # the probes use the loopback plaintext port
    conf = ensemble.four_letter(0, "conf")
    assert conf.count(f";127.0.0.1:{CLIENT_PORT}") == 3  # every member's plaintext port on loopback only
    assert f"secureClientPort={SECURE_CLIENT_PORT}" in conf


def test_nothing_plaintext_is_reachable_from_outside_a_member(ensemble, pki):
    address = ensemble.address(0)
    assert plaintext_answer(address, CLIENT_PORT) == "connection refused"
    for port in (SERVER_PORT, ELECTION_PORT, SECURE_CLIENT_PORT):
        answer = plaintext_answer(address, port)
        assert "Zookeeper version" not in answer and "Mode:" not in answer, (port, answer)
    # TLS answers there, to a certificate from the CA (the election port waits for a peer's header: no question)
    assert handshake(address, ELECTION_PORT, pki, pki["client"], ask=False) == "ok"
    assert handshake(address, SECURE_CLIENT_PORT, pki, pki["client"]) == "ok"


def test_a_client_needs_a_certificate_from_the_ca(ensemble, pki, tmp_path):
    address = ensemble.address(1)
    assert handshake(address, SECURE_CLIENT_PORT, pki, None).startswith("refused")
    stranger = readable(make_member_cert(tmp_path / "stranger", pki["other-ca"], ["stranger.example"]))
    assert handshake(address, SECURE_CLIENT_PORT, pki, stranger).startswith("refused")
    client = tls_client(pki, address, pki["client"])
    client.start(timeout=20)
    try:
        client.create("/tls-written", b"over tls")
        assert client.get("/tls-written")[0] == b"over tls"
    finally:
        client.stop()
        client.close()


def test_a_certificates_subject_is_an_identity_acls_can_name(ensemble, pki):
    """The x509 provider: the client's certificate subject (its DN) is its id in scheme x509."""
    client = tls_client(pki, ensemble.address(0), pki["client"])
    client.start(timeout=20)
    other = tls_client(pki, ensemble.address(0), readable(make_member_cert(
        pki["root"] / "other-client", pki["ca"], ["other.example"])))
    other.start(timeout=20)
    try:
        client.create("/x509-only", b"mine", acl=[make_acl("x509", "CN=writer.example", all=True)])
        assert client.get("/x509-only")[0] == b"mine"
        with pytest.raises(NoAuthError):
            other.get("/x509-only")
    finally:
        for each in (client, other):
            each.stop()
            each.close()


def served_serial(address: str, pki) -> str:
    result = subprocess.run(
        f"openssl s_client -connect {address}:{SECURE_CLIENT_PORT} -CAfile {pki['ca'] / 'ca.crt'} "
        f"-cert {pki['client'] / 'tls.crt'} -key {pki['client'] / 'tls.key'} </dev/null 2>/dev/null "
        "| openssl x509 -noout -serial",
        shell=True, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return result.stdout.strip()


def test_a_renewed_certificate_is_served_without_a_restart(ensemble, pki):
    engine = ensemble.engine
    pids = {m: engine.inspect(ensemble.name(m), "{{.State.Pid}}") for m in range(3)}
    before = served_serial(ensemble.address(2), pki)
    assert before.startswith("serial=")
    make_member_cert(pki["members"], pki["ca"], MEMBER_NAMES)  # the renewal: a new key and certificate
    readable(pki["members"])
    renewed = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", pki["members"] / "tls.crt"],
                             capture_output=True, text=True, check=True).stdout.strip()
    start = time.monotonic()
    assert ensemble.wait(lambda: served_serial(ensemble.address(2), pki) == renewed, timeout=60), (
        f"member 2 still serves {served_serial(ensemble.address(2), pki)} after 60 s, not the renewed {renewed}")
    print(f"renewed certificate served {time.monotonic() - start:.1f} s after the files changed")
    assert {m: engine.inspect(ensemble.name(m), "{{.State.Pid}}") for m in range(3)} == pids  # no restart
    assert ensemble.wait(ensemble.serving, timeout=60)  # and the quorum kept going on the renewed certificate


def test_a_member_with_another_cas_certificate_cannot_join(ensemble, pki, tmp_path):
    """3 -> 5: member 4, with the ensemble's certificate, joins; member 3, with a certificate (and trust) of another
    CA, passes its own start checks, but the ensemble refuses its handshakes: it never serves and never votes."""
    outsider = readable(make_member_cert(tmp_path / "outsider", pki["other-ca"], MEMBER_NAMES))
    ensemble.scale(5)
    ensemble.remove(3)
    ensemble.run_member(3, tls=outsider)
    try:
        joined = lambda: "server.5=" in ensemble.four_letter(0, "conf").split("version=")[0] and ensemble.mode(4)  # noqa: E731
        assert ensemble.wait(joined, timeout=120), "member 4, with the ensemble's certificate, did not join"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert ensemble.mode(3) == "", "member 3 serves with another CA's certificate"
            time.sleep(1)
        voters = [line for line in ensemble.four_letter(0, "conf").splitlines() if "participant" in line]
        assert not any(line.startswith("server.4=") for line in voters), voters
    finally:
        ensemble.scale(3)
    assert ensemble.wait(ensemble.serving, timeout=60)
