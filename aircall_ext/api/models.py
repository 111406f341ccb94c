"""Pydantic models of the routing management API (SPEC §3).

Response models ignore unknown fields. ``User.extension`` is kept as the raw text the API
holds (possibly malformed legacy data) so that the audit can diagnose it instead of the
listing failing; writes go through :data:`Extension`, which only admits three ASCII digits.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

# Three ASCII digits; `\d` would admit other scripts' digits.
Extension = Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]


def _extension_text(value: Any) -> Any:
    """An API that sends a number instead of text still lists; the audit flags the damage."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


RawExtension = Annotated[str | None, BeforeValidator(_extension_text)]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Company(ApiModel):
    name: str
    users_count: int | None = None
    numbers_count: int | None = None


class NumberRef(ApiModel):
    """A number as listed inside a user."""

    id: int
    name: str | None = None
    digits: str | None = None


class UserRef(ApiModel):
    """A user as listed inside a number's call distribution."""

    id: int
    name: str | None = None
    email: str | None = None


class User(ApiModel):
    id: int
    name: str | None = None
    email: str | None = None
    available: bool = True
    availability_status: str | None = None
    extension: RawExtension = None
    outgoing_only: bool = False
    direct_link: str | None = None
    created_at: str | None = None
    time_zone: str | None = None
    language: str | None = None
    numbers: list[NumberRef] = Field(default_factory=list)

    @property
    def is_unavailable(self) -> bool:
        """SPEC §3: unavailable when the status says so or ``available`` is false."""
        return self.availability_status == "unavailable" or not self.available


Routing = Literal["smartflows", "legacy-classic", "legacy-ivr"]


class Number(ApiModel):
    id: int
    name: str | None = None
    digits: str | None = None
    e164_digits: str | None = None
    flow_editor_enabled: bool = False
    is_ivr: bool = False
    users: list[UserRef] = Field(default_factory=list)
    direct_link: str | None = None
    country: str | None = None
    time_zone: str | None = None

    @property
    def routing(self) -> Routing:
        if self.flow_editor_enabled:
            return "smartflows"
        return "legacy-ivr" if self.is_ivr else "legacy-classic"


class Meta(ApiModel):
    count: int | None = None
    total: int | None = None
    current_page: int | None = None
    per_page: int | None = None
    next_page_link: str | None = None
    previous_page_link: str | None = None


class CompanyEnvelope(ApiModel):
    company: Company


class UserEnvelope(ApiModel):
    user: User


class NumberEnvelope(ApiModel):
    number: Number


class UsersPage(ApiModel):
    users: list[User]
    meta: Meta


class NumbersPage(ApiModel):
    numbers: list[Number]
    meta: Meta
