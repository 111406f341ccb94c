"""Naming an account that a journal or a saved plan recorded, for people.

Both keep the host and a fingerprint of the API ID, never the ID itself; the IDs this
machine knows without a secret or a request (the environment's, the profiles') turn a
fingerprint back into a readable ID.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aircall_ext.config import load_config
from aircall_ext.names import ENV_API_ID
from aircall_ext.services.journal import sha256_hex


def known_api_ids() -> dict[str, str]:
    """Fingerprint → API ID, for the IDs of ``AIRCALL_API_ID`` and of every profile."""
    known = [os.environ.get(ENV_API_ID, "")]
    known += [p.api_id or "" for p in load_config(lenient=True).profiles.values()]
    return {sha256_hex(api_id.encode())[:16]: api_id for api_id in known if api_id}


def account_label(identity: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """``API ID@host`` (``sha256:FINGERPRINT@host`` for an ID not known here), or sandbox."""
    if identity.get("sandbox"):
        return "sandbox"
    fingerprint = identity.get("api_id_sha256")
    api_id = names.get(str(fingerprint)) if fingerprint else None
    if api_id is None:
        api_id = f"sha256:{fingerprint}" if fingerprint else "(no API ID)"
    return f"{api_id}@{identity.get('host')}"
