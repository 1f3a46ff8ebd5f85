"""The cluster's keys and certificates, made with openssl: a CA, the apiserver's serving cert, a service-account key."""

from __future__ import annotations

from pathlib import Path

from tools.base.run import run, which

SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"  # the first address of the range: the `kubernetes` Service


def _openssl() -> str:
    return which("openssl", "install openssl (Debian: apt-get install openssl)")


def make(pki: Path) -> None:
    """ca.{crt,key}, apiserver.{crt,key} for 127.0.0.1 and the in-cluster names, the API server's client cert for
    kubelets, sa.{key,pub}."""
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
    names = [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "localhost",
    ]
    san = ",".join([f"DNS:{n}" for n in names] + ["IP:127.0.0.1", f"IP:{KUBERNETES_SERVICE_IP}"])
    _signed(openssl, pki, "apiserver", "/CN=kube-apiserver", f"subjectAltName={san}\nextendedKeyUsage=serverAuth\n")
    # what the API server shows a real node's kubelet (exec, logs, port-forward)
    _signed(openssl, pki, "apiserver-kubelet-client", "/CN=kube-apiserver-kubelet-client",
            "extendedKeyUsage=clientAuth\n")
    run([openssl, "genrsa", "-out", pki / "sa.key", "2048"], timeout=60)
    run([openssl, "rsa", "-in", pki / "sa.key", "-pubout", "-out", pki / "sa.pub"], timeout=60)


def _signed(openssl: str, pki: Path, name: str, subject: str, extensions: str) -> None:
    """<name>.key and <name>.crt signed by the CA, with the given subject and x509 extensions."""
    key, csr, crt, ext = (pki / f"{name}.{suffix}" for suffix in ("key", "csr", "crt", "ext"))
    run([openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", subject], timeout=60)
    ext.write_text(extensions)
    run(
        [openssl, "x509", "-req", "-in", csr, "-CA", pki / "ca.crt", "-CAkey", pki / "ca.key", "-CAcreateserial",
         "-out", crt, "-days", "3650", "-extfile", ext],
        timeout=60,
    )
