"""Which account a journal, a saved plan or the rate-limit memory belongs to, without a
secret: the API's host, a fingerprint of the API ID (an identifier, but there is no reason
to spread it) and whether it is the sandbox. Never the token.

Pure: the service builds one from the run's settings (``services/identity.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FINGERPRINT_LENGTH = 16  # hex digits of the API ID's sha256 kept


def fingerprint(api_id: str) -> str:
    """The one fingerprint of an API ID that journals, plans and caches record."""
    return hashlib.sha256(api_id.encode()).hexdigest()[:FINGERPRINT_LENGTH]


@dataclass(frozen=True)
class AccountIdentity:
    host: str | None  # ``host`` or ``host:port``
    api_id_sha256: str | None  # :func:`fingerprint` of the API ID
    sandbox: bool = False

    def same_as(self, other: AccountIdentity) -> bool:
        """Whether a journal or a plan of ``other`` may be applied on this account."""
        return self == other

    def label(self, names: Mapping[str, str]) -> str:
        """``API ID@host`` (``sha256:FINGERPRINT@host`` for an ID ``names`` does not know),
        or ``sandbox``. ``names`` maps fingerprints to API IDs."""
        if self.sandbox:
            return "sandbox"
        known = names.get(self.api_id_sha256) if self.api_id_sha256 else None
        if known is None:
            known = f"sha256:{self.api_id_sha256}" if self.api_id_sha256 else "(no API ID)"
        return f"{known}@{self.host}"

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "api_id_sha256": self.api_id_sha256, "sandbox": self.sandbox}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> AccountIdentity:
        """From a document checked already (an older one may lack ``sandbox``: not)."""
        return cls(doc.get("host"), doc.get("api_id_sha256"), bool(doc.get("sandbox")))
