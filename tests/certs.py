"""Certificates for the TLS tests, made with openssl as a user makes the CA of the chart's `tls.existingSecret`: a CA,
and a member certificate in cert-manager's layout (tls.crt, tls.key, ca.crt in one directory)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(directory: Path, name: str = "kube-zookeeper test CA") -> Path:
    """A self-signed CA (ca.crt, ca.key) in directory; returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj",
            f"/CN={name}", "-days", "2", cwd=directory)  # fmt: skip
    return directory


def make_member_cert(directory: Path, ca: Path, names: list[str], *, days: int = 1, pkcs1: bool = True,
                     key_from: Path | None = None) -> Path:
    """tls.crt (signed by the CA in `ca`, covering `names`, server and client usages), tls.key (PKCS#1 by default,
    as cert-manager writes RSA keys; or key_from's tls.key) and ca.crt, in directory. days=-1: already expired."""
    directory.mkdir(parents=True, exist_ok=True)
    if key_from is not None:
        (directory / "tls.key").write_bytes((key_from / "tls.key").read_bytes())
    elif pkcs1:
        openssl("genrsa", "-traditional", "-out", "tls.key", "2048", cwd=directory)
    else:
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "tls.key", cwd=directory)
    (directory / "ext.cnf").write_text(
        "subjectAltName=" + ",".join(f"DNS:{name}" for name in names) + "\n"
        "extendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n"
    )
    openssl("req", "-new", "-key", "tls.key", "-out", "tls.csr", "-subj", f"/CN={names[0]}", cwd=directory)
    openssl("x509", "-req", "-in", "tls.csr", "-CA", ca / "ca.crt", "-CAkey", ca / "ca.key", "-CAcreateserial",
            "-days", str(days), "-extfile", "ext.cnf", "-out", "tls.crt", cwd=directory)  # fmt: skip
    (directory / "ca.crt").write_bytes((ca / "ca.crt").read_bytes())
    for leftover in ("tls.csr", "ext.cnf"):
        (directory / leftover).unlink()
    return directory
