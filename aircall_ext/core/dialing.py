"""Dial simulator: what happens when a caller dials a digit sequence on one of our numbers.

Pure: a function of an :class:`Account` snapshot, so it runs offline and is tested with
plain objects. It runs the checks in a fixed order (a public-API transfer, the stage, three
digits, a holder, not outgoing-only, in the distribution for a legacy classic number,
available), stops at the first that fails, and explains every check it evaluated.

What the caller hears (``caller_hears``), per outcome:

- ``rings-user``: ``"The ringing tone while the user's phone rings"``.
- ``user-unavailable``: ``"The automated unavailability message (it cannot be customised)"``;
  the phone system plays such a message, but its words are not known, so none are quoted.
- ``extension-does-not-exist``: ``"This extension does not exist"`` (the phone system's words).
- ``stage-not-accepting`` and ``api-transfer``: the digits are ignored and the call carries
  on, so the caller keeps hearing what was playing (see :data:`_STILL_HEARD`).
- ``invalid-sequence`` and ``not-in-distribution``: ``None``: no specific message is known
  for them, and inventing one would mislead an admin.

A collision (two holders of one extension) exists only in a damaged account. The simulator
then follows the holder with the lowest id, so that the answer is stable, and says so in
the trace: the real system may ring either of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aircall_ext.api.models import Number, Routing, User
from aircall_ext.core.account import Account
from aircall_ext.core.dialterms import DEAD_EXTENSION, Outcome, Stage
from aircall_ext.core.extensions import ExtensionProblem, is_extension, parse_extension
from aircall_ext.core.findings import listed, plural, who

# The stages during which each routing mode collects extension digits.
ACCEPTING_STAGES: dict[Routing, frozenset[Stage]] = {
    "smartflows": frozenset({"ivr", "audio", "waiting"}),
    "legacy-classic": frozenset({"welcome"}),
    "legacy-ivr": frozenset({"welcome", "ivr"}),
}

ROUTING_LABEL: dict[Routing, str] = {
    "smartflows": "Smartflows",
    "legacy-classic": "legacy routing, classic number",
    "legacy-ivr": "legacy routing, IVR number",
}

_ACCEPTS: dict[Routing, str] = {
    "smartflows": (
        "during or right after an IVR (keypad) message, during an audio message "
        "or during waiting music"
    ),
    "legacy-classic": "only during the welcome message",
    "legacy-ivr": "during the welcome message or the IVR message",
}

STAGE_LABEL: dict[Stage, str] = {
    "welcome": "the welcome message",
    "ivr": "the IVR (keypad) message",
    "audio": "an audio message",
    "waiting": "the waiting music",
    "ringing": "the ringing phase",
}

_STILL_HEARD: dict[Stage, str] = {
    "welcome": "the welcome message",
    "ivr": "the IVR message",
    "audio": "the audio message",
    "waiting": "the waiting music",
    "ringing": "the ringing tone",
}

CALLER_HEARS_UNAVAILABLE = "The automated unavailability message (it cannot be customised)"
CALLER_HEARS_RINGING = "The ringing tone while the user's phone rings"
CALLER_HEARS_API_TRANSFER = "Nothing new: the digits are ignored while the transferred call rings"


@dataclass(frozen=True)
class Check:
    """One evaluated check of a dial dry-run and why it passed or failed."""

    check: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}


def dial_document(**values: Any) -> dict[str, Any]:
    """A dry-run's JSON document, every key in its place: ``values`` fill it, and what they
    leave out stays null or empty (a batch row that could not be dry-run fills only what it
    asked), so every row of a batch has the same keys."""
    doc: dict[str, Any] = {
        "number": None,
        "routing": None,
        "routing_assumed": None,
        "stage": None,
        "digits": None,
        "api_transfer": None,
        "outcome": None,
        "reaches_user": False,
        "user": None,
        "caller_hears": None,
        "missed_call_notified": [],
        "trace": [],
        "verdict": None,
        "collision": [],
    }
    unknown = values.keys() - doc.keys()
    if unknown:
        raise TypeError(f"not a key of a dry-run's document: {', '.join(sorted(unknown))}")
    return {**doc, **values}


@dataclass(frozen=True)
class DialResult:
    number: Number
    stage: Stage
    digits: str
    api_transfer: bool
    outcome: Outcome
    user: User | None
    caller_hears: str | None
    missed_call_notified: tuple[User, ...]
    trace: tuple[Check, ...]
    verdict: str
    collision: tuple[User, ...] = ()  # every holder, when the account is damaged

    @property
    def routing(self) -> Routing:
        return self.number.routing

    @property
    def reaches_user(self) -> bool:
        """Only a ringing phone reaches the user; an unavailability message does not."""
        return self.outcome == "rings-user"

    def to_json(self) -> dict[str, Any]:
        """The ``dial -o json`` document."""
        return dial_document(
            number={
                "id": self.number.id,
                "name": self.number.name,
                "digits": self.number.digits,
            },
            routing=self.routing,
            routing_assumed=self.number.routing_assumed,
            stage=self.stage,
            digits=self.digits,
            api_transfer=self.api_transfer,
            outcome=self.outcome,
            reaches_user=self.reaches_user,
            user=_user_json(self.user),
            caller_hears=self.caller_hears,
            missed_call_notified=[
                {"id": u.id, "email": u.email, "name": u.name} for u in self.missed_call_notified
            ],
            trace=[check.to_json() for check in self.trace],
            verdict=self.verdict,
            collision=[{"id": u.id, "email": u.email} for u in self.collision],
        )


def _user_json(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "email": user.email, "name": user.name, "extension": user.extension}


# -- the call under simulation ------------------------------------------------------------


@dataclass(frozen=True)
class _Call:
    account: Account
    number: Number
    digits: str
    stage: Stage
    api_transfer: bool
    holders: tuple[User, ...] = field(default=())

    @property
    def routing(self) -> Routing:
        return self.number.routing

    @property
    def mode(self) -> str:
        return ROUTING_LABEL[self.routing]

    @property
    def holder(self) -> User | None:
        """The holder the simulation follows: the lowest id, if the account is damaged."""
        return min(self.holders, key=lambda u: u.id) if self.holders else None

    @property
    def user(self) -> User:
        assert self.holder is not None, "checks after the lookup run only when it found a user"
        return self.holder

    @property
    def in_distribution(self) -> bool:
        return any(member.id == self.user.id for member in self.number.distribution)


def _name(user: User) -> str:
    return user.name or user.email or f"user {user.id}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- the checks, in the order that decides the outcome -----------------------------------


def _check_api_transfer(call: _Call) -> Check:
    if call.api_transfer:
        return Check(
            "api-transfer",
            False,
            "The call is in the ringing phase of a transfer made through the public API: "
            "during that phase the caller cannot dial an extension, whatever the routing.",
        )
    return Check(
        "api-transfer",
        True,
        "The call is not in the ringing phase of a public-API transfer, so the keypad is live.",
    )


def _check_stage(call: _Call) -> Check:
    accepted = call.stage in ACCEPTING_STAGES[call.routing]
    rule = f"{_cap(call.mode)}: extensions are taken {_ACCEPTS[call.routing]}"
    assumption = call.number.routing_assumption
    if assumption is not None:
        rule = f"Routing assumed: {assumption}. {rule}"
    if accepted:
        return Check("stage", True, f"{rule}, so dialing during {STAGE_LABEL[call.stage]} works.")
    return Check("stage", False, f"{_stage_refusal(call, rule)} The digits are ignored.")


def _stage_refusal(call: _Call, rule: str) -> str:
    if call.stage == "ringing":
        return (
            "No routing mode collects extension digits while the call is ringing, only while "
            f"a message or music plays. {rule}."
        )
    refusal = f"{rule}, not during {STAGE_LABEL[call.stage]}."
    if call.routing == "legacy-classic" and call.stage == "ivr":
        refusal += " A classic number has no IVR message at all."
    elif call.routing == "smartflows" and call.stage == "welcome":
        refusal += (
            " The welcome message is a legacy-routing stage; a greeting in a Smartflow is "
            "an audio message (--stage audio)."
        )
    return refusal


def _check_sequence(call: _Call) -> Check:
    if is_extension(call.digits):
        return Check(
            "sequence", True, f"{call.digits!r} is exactly three digits, like every extension."
        )
    return Check("sequence", False, _sequence_problem(call.digits))


def _sequence_problem(digits: str) -> str:
    """Why ``digits`` is not a dialable extension, naming lost leading zeros explicitly."""
    rule = "an extension is exactly three digits 0-9, and leading zeros count"
    if not digits:
        return f"No digits were dialed; {rule}."
    if digits.isascii() and digits.isdigit():
        count = plural(len(digits), "digit")
        if len(digits) < 3:
            padded = digits.zfill(3)
            hint = f"to reach extension {padded}, dial {padded}"
            return f"{digits!r} is {count}, not three: {rule} ({hint})."
        return f"{digits!r} is {count}, not three: {rule}."
    return f"{digits!r} is not a digit sequence: {rule}."


def _check_lookup(call: _Call) -> Check:
    if not call.holders:
        return Check("lookup", False, _no_holder(call))
    detail = f"Extension {call.digits} belongs to {who(call.user)}."
    if len(call.holders) > 1:
        others = listed(who(u) for u in call.holders if u is not call.user)
        detail = (
            f"Extension {call.digits} is held by {len(call.holders)} users, a collision that "
            f"only a damaged account has (extensions are unique): simulating the lowest id, "
            f"{who(call.user)}; the real system may ring {others} instead."
        )
    return Check("lookup", True, detail)


def _no_holder(call: _Call) -> str:
    detail = (
        f"No user of the account has extension {call.digits}, so the caller hears "
        f'"{DEAD_EXTENSION}".'
    )
    near = [u for u in call.account.users if _damaged_into(u.extension, call.digits)]
    if near:
        detail += (
            " Note: "
            + "; ".join(
                f"{who(u)} holds {u.extension!r}, a damaged extension that is not {call.digits}"
                for u in near
            )
            + "."
        )
    return detail


def _damaged_into(extension: str | None, digits: str) -> bool:
    """True when a malformed stored extension was probably meant to be ``digits``."""
    if extension is None:
        return False
    parsed = parse_extension(extension)
    return isinstance(parsed, ExtensionProblem) and parsed.suggestion == digits


def _check_outgoing_only(call: _Call) -> Check:
    user = call.user
    if user.outgoing_only is None:
        return Check(
            "outgoing-only",
            True,
            f"The API does not report whether {_name(user)} has outgoing-calls-only access; "
            f'assumed able to receive calls (if not, the caller hears "{DEAD_EXTENSION}").',
        )
    if user.outgoing_only:
        return Check(
            "outgoing-only",
            False,
            f"{_name(user)} has outgoing-calls-only access, so extension {call.digits} is dead: "
            f'the caller hears "{DEAD_EXTENSION}".',
        )
    return Check(
        "outgoing-only", True, f"{_name(user)} can receive calls (not outgoing-calls-only)."
    )


def _check_distribution(call: _Call) -> Check:
    number = repr(call.number.name) if call.number.name else f"number {call.number.id}"
    user = _name(call.user)
    inside = "is" if call.in_distribution else "is not"
    if call.routing == "legacy-classic":
        rule = (
            f"{_cap(call.mode)}: an extension reaches only users in the number's call distribution"
        )
        size = len(call.number.distribution)
        has = plural(size, "user") if size else "nobody"
        if call.number.users is None:
            has = "no users the API listed"
        where = f"that of {number}, which has {has}"
        return Check(
            "distribution", call.in_distribution, f"{rule}, and {user} {inside} in {where}."
        )
    return Check(
        "distribution",
        True,
        f"{_cap(call.mode)}: an extension reaches any user of the account, even outside the "
        f"number's call distribution ({user} {inside} in that of {number}).",
    )


def _check_availability(call: _Call) -> Check:
    user = call.user
    if user.is_unavailable:
        return Check(
            "availability",
            False,
            f"{_name(user)} is unavailable ({_availability(user)}): the caller hears the "
            "automated unavailability message, which cannot be customised.",
        )
    return Check("availability", True, f"{_name(user)} is available ({_availability(user)}).")


def _availability(user: User) -> str:
    status = user.availability_status
    shown = f"available: {str(user.available).lower()}"
    if status is None:
        return shown
    note = ", a custom status counts as available" if status == "custom" else ""
    return f"{shown}, availability_status: {status!r}{note}"


_Step = tuple[Callable[[_Call], Check], Outcome]
_STEPS: tuple[_Step, ...] = (
    (_check_api_transfer, "api-transfer"),
    (_check_stage, "stage-not-accepting"),
    (_check_sequence, "invalid-sequence"),
    (_check_lookup, "extension-does-not-exist"),
    (_check_outgoing_only, "extension-does-not-exist"),
    (_check_distribution, "not-in-distribution"),
    (_check_availability, "user-unavailable"),
)
_LOOKUP_STEP = 4  # the 1-based position of the lookup among the checks


# -- the simulator ------------------------------------------------------------------------


def simulate(
    account: Account,
    number: Number,
    digits: str,
    stage: Stage,
    *,
    api_transfer: bool = False,
) -> DialResult:
    """Dry-run ``digits`` dialed on ``number`` at ``stage``; never raises for any input.

    Surrounding whitespace of ``digits`` is shell or CSV padding (a keypad cannot send it).
    """
    digits = digits.strip()
    holders = tuple(account.holders(digits)) if is_extension(digits) else ()
    call = _Call(account, number, digits, stage, api_transfer, holders)
    trace: list[Check] = []
    outcome: Outcome = "rings-user"
    for step, failure in _STEPS:
        trace.append(step(call))
        if not trace[-1].ok:
            outcome = failure
            break
    user = call.holder if len(trace) >= _LOOKUP_STEP else None
    notified = _notified(call) if outcome == "rings-user" else ()
    return DialResult(
        number=number,
        stage=stage,
        digits=digits,
        api_transfer=api_transfer,
        outcome=outcome,
        user=user,
        caller_hears=_caller_hears(outcome, stage),
        missed_call_notified=notified,
        trace=tuple(trace),
        verdict=_verdict(call, outcome, user, notified),
        collision=holders if len(holders) > 1 and user is not None else (),
    )


def _notified(call: _Call) -> tuple[User, ...]:
    """The number's assigned users, with the email filled from the account when missing."""
    refs = []
    for ref in call.number.distribution:
        known = call.account.user_by_id(ref.id)
        if known is not None and (ref.email is None or ref.name is None):
            ref = ref.model_copy(
                update={"email": ref.email or known.email, "name": ref.name or known.name}
            )
        refs.append(ref)
    return tuple(refs)


def _caller_hears(outcome: Outcome, stage: Stage) -> str | None:
    if outcome in ("rings-user", "user-unavailable", "extension-does-not-exist"):
        return {
            "rings-user": CALLER_HEARS_RINGING,
            "user-unavailable": CALLER_HEARS_UNAVAILABLE,
            "extension-does-not-exist": DEAD_EXTENSION,
        }[outcome]
    if outcome == "api-transfer":
        return CALLER_HEARS_API_TRANSFER
    if outcome == "stage-not-accepting":
        return f"Nothing new: the digits are ignored and {_STILL_HEARD[stage]} goes on"
    return None


def _verdict(call: _Call, outcome: Outcome, user: User | None, notified: tuple[User, ...]) -> str:
    if outcome != "rings-user":
        reached = _name(user) if user else "any user"
        return f"{outcome}: the call does not reach {reached}."
    verdict = f"rings-user: the phone of {who(call.user)} rings."
    if not notified:
        return verdict + " Nobody is assigned to the number, so an unanswered call notifies nobody."
    emails = ", ".join(ref.email or f"user {ref.id}" for ref in notified)
    assigned = (
        "user assigned to the number gets"
        if len(notified) == 1
        else "users assigned to the number get"
    )
    notice = f"a missed-call notification: {emails}"
    return f"{verdict} If nobody answers, the {len(notified)} {assigned} {notice}."
