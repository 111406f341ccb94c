"""Pydantic models of the routing management API, read leniently.

The live API adds fields, omits optional ones and sends nulls; none of that may break a
listing. So response models ignore unknown fields, and every field except ``id`` is
optional. Only what the tool reads is declared: a field we never use cannot fail us.

``User.extension`` keeps the raw text the API holds (possibly legacy damage such as ``7``)
so that the audit can diagnose it instead of the listing failing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _extension_text(value: Any) -> str | None:
    """Any non-text extension becomes text, so the audit can flag it (7 -> a lost zero)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)


RawExtension = Annotated[str | None, BeforeValidator(_extension_text)]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Company(ApiModel):
    name: str | None = None
    users_count: int | None = None
    numbers_count: int | None = None


class User(ApiModel):
    """A v2 user. ``outgoing_only`` is this tool's own field: ``None`` when the API is silent."""

    id: int
    name: str | None = None
    email: str | None = None
    available: bool | None = None
    availability_status: str | None = None
    extension: RawExtension = None
    outgoing_only: bool | None = None
    time_zone: str | None = None
    language: str | None = None
    default_number_id: int | None = None

    @property
    def is_unavailable(self) -> bool:
        """Unavailable when the status says so or ``available`` (working hours) is false."""
        return self.availability_status == "unavailable" or self.available is False


Routing = Literal["smartflows", "legacy-classic", "legacy-ivr"]


class Number(ApiModel):
    """A v1 number. ``users`` is its call distribution: ``None`` when not sent (listings)."""

    id: int
    name: str | None = None
    digits: str | None = None
    e164_digits: str | None = None
    country: str | None = None
    flow_editor_enabled: bool | None = None
    is_ivr: bool | None = None
    users: tuple[User, ...] | None = None

    @property
    def routing(self) -> Routing:
        """Smartflows unless the API says otherwise: it is the routing of every new number.

        A legacy number whose ``is_ivr`` is unknown is taken as classic, the stricter mode
        (fewer stages, distribution users only), so a dry-run never promises too much.
        """
        if self.flow_editor_enabled is not False:
            return "smartflows"
        return "legacy-ivr" if self.is_ivr else "legacy-classic"

    @property
    def routing_assumed(self) -> bool:
        """True when a flag the routing depends on was absent or null."""
        return self.routing_assumption is not None

    @property
    def routing_assumption(self) -> str | None:
        """Why the routing is a guess, in words for a trace or a note; ``None`` when known."""
        if self.flow_editor_enabled is None:
            return (
                "the API did not say whether Smartflows is enabled (flow_editor_enabled "
                "absent or null), so Smartflows is assumed"
            )
        if self.is_ivr is None and self.flow_editor_enabled is False:
            return (
                "the API did not say whether this legacy number is an IVR number (is_ivr "
                "absent or null), so a classic number is assumed"
            )
        return None

    @property
    def distribution(self) -> tuple[User, ...]:
        return self.users or ()


class Meta(ApiModel):
    count: int | None = None
    total: int | None = None
    current_page: int | None = None
    per_page: int | None = None  # what the server serves: it clamps what it is asked for
    next_page_link: str | None = None
    previous_page_link: str | None = None

    @property
    def sends_links(self) -> bool:
        """Whether the server pages by links (then ``next_page_link: null`` means last)."""
        return "next_page_link" in self.model_fields_set


class TeamMember(ApiModel):
    """A member as a team listing nests it: no ``extension`` (read the user for that)."""

    id: int
    name: str | None = None
    email: str | None = None


class Team(ApiModel):
    """A v1 team. ``users`` is ``None`` when not sent, which is not an empty team."""

    id: int
    name: str | None = None
    users: tuple[TeamMember, ...] | None = None

    @property
    def members(self) -> tuple[TeamMember, ...]:
        return self.users or ()


class CompanyEnvelope(ApiModel):
    company: Company


class UserEnvelope(ApiModel):
    user: User


class NumberEnvelope(ApiModel):
    number: Number


class TeamEnvelope(ApiModel):
    team: Team


class Page(ApiModel):
    """One page of a listing: its records (under a key of their own) and ``meta``."""

    meta: Meta | None = None

    @property
    def items(self) -> Sequence[User | Number | Team]:
        raise NotImplementedError


class UsersPage(Page):
    users: list[User]

    @property
    def items(self) -> list[User]:
        return self.users


class NumbersPage(Page):
    numbers: list[Number]

    @property
    def items(self) -> list[Number]:
        return self.numbers


class TeamsPage(Page):
    teams: list[Team]

    @property
    def items(self) -> list[Team]:
        return self.teams
