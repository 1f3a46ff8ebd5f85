"""The cluster's keys and certificates, made with openssl: a CA, the apiserver's serving cert, a service-account key."""

from __future__ import annotations

from pathlib import Path

from tools.run import run, which

SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"  # the first address of the range: the `kubernetes` Service


def _openssl() -> str:
    return which("openssl", "install openssl (Debian: apt-get install openssl)")


def make(pki: Path) -> None:
    """ca.{crt,key}, apiserver.{crt,key} for 127.0.0.1 and the in-cluster names, sa.{key,pub}."""
    openssl = _openssl()
    pki.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = pki / "ca.key", pki / "ca.crt"
    run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            ca_key,
            "-out",
            ca_crt,
            "-days",
            "3650",
            "-subj",
            "/CN=kube-zookeeper-local-ca",
        ],
        timeout=60,
    )
    key, csr, crt = pki / "apiserver.key", pki / "apiserver.csr", pki / "apiserver.crt"
    run(
        [openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=kube-apiserver"],
        timeout=60,
    )
    names = [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "localhost",
    ]
    extensions = pki / "apiserver.ext"
    extensions.write_text(
        "subjectAltName="
        + ",".join([f"DNS:{n}" for n in names] + ["IP:127.0.0.1", f"IP:{KUBERNETES_SERVICE_IP}"])
        + "\nextendedKeyUsage=serverAuth\n"
    )
    run(
        [
            openssl,
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca_crt,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            crt,
            "-days",
            "3650",
            "-extfile",
            extensions,
        ],
        timeout=60,
    )
    run([openssl, "genrsa", "-out", pki / "sa.key", "2048"], timeout=60)
    run([openssl, "rsa", "-in", pki / "sa.key", "-pubout", "-out", pki / "sa.pub"], timeout=60)
