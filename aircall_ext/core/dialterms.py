"""The vocabulary of a dialed call: the stages of ``dial --stage`` and the outcomes.

A module of its own, importing nothing, so that the CLI can offer these as choices (and
shell completion can list them) without loading the simulator and pydantic.
"""

from __future__ import annotations

from typing import Literal, get_args

Stage = Literal["welcome", "ivr", "audio", "waiting", "ringing"]
STAGES: tuple[Stage, ...] = get_args(Stage)

Outcome = Literal[
    "rings-user",
    "user-unavailable",
    "extension-does-not-exist",
    "not-in-distribution",
    "stage-not-accepting",
    "api-transfer",
    "invalid-sequence",
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

# What a caller hears on dialing a dead or unknown extension: the phone system's own words.
DEAD_EXTENSION = "This extension does not exist"
