"""What counts as a loopback host: ``localhost``, 127.0.0.0/8 and ``::1``.

One definition for the client (plain HTTP is allowed only there) and for ``sandbox serve``
(which binds only there unless told otherwise). Names are never resolved: any other name
counts as remote.
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    name = host.strip().lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False
