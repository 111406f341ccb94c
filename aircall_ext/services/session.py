"""Builds the run's one API client: the real API, or the embedded sandbox in-process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aircall_ext.api.client import ApiClient
from aircall_ext.config import Settings, require_credentials
from aircall_ext.output import status, warn

if TYPE_CHECKING:
    import httpx


def open_client(settings: Settings, *, verbose: int = 0) -> ApiClient:
    """A client for ``settings``; ``--sandbox`` goes through the same client code in-process."""
    transport: httpx.BaseTransport | None = None
    if settings.sandbox:
        transport = _sandbox_transport()
        api_id, token = "sandbox", "sandbox"
    else:
        api_id, token = require_credentials(settings)
    return ApiClient(
        settings.base_url,
        api_id,
        token,
        transport=transport,
        allow_http=settings.sandbox,
        log=status if verbose else None,
        log_headers=verbose >= 2,
        warn=warn,
    )


def _sandbox_transport() -> httpx.BaseTransport:
    """The one place outside the sandbox package that knows about it (DESIGN.md)."""
    import httpx

    from aircall_ext.sandbox import build_inprocess_app

    return httpx.WSGITransport(app=build_inprocess_app())
