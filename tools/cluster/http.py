"""One HTTP health probe for the processes of the local cluster (etcd's /health, CoreDNS's /ready)."""

from __future__ import annotations

import urllib.error
import urllib.request


def http_ok(url: str) -> bool:
    """True when url answers 200 within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
