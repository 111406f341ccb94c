"""The one rule for reading a listing whole: read again once, then refuse to decide."""

from __future__ import annotations

import pytest

from aircall_ext.api.client import Listing
from aircall_ext.errors import ApiError
from aircall_ext.services.users import read_listing

CHANGED = "the API's count of teams changed while its pages were read (3, then 2)"


class Reads:
    """A listing that answers ``answers`` in turn, counting the reads."""

    def __init__(self, *answers: Listing[int]) -> None:
        self.answers = list(answers)
        self.count = 0

    def __call__(self) -> Listing[int]:
        self.count += 1
        return self.answers.pop(0)


def test_a_read_that_adds_up_the_second_time_is_used() -> None:
    reads = Reads(Listing((1, 2), CHANGED), Listing((1, 2, 3)))
    assert read_listing(reads).items == (1, 2, 3)
    assert reads.count == 2


def test_a_read_that_never_adds_up_is_refused_after_the_second() -> None:
    reads = Reads(Listing((1,), CHANGED), Listing((1,), CHANGED), Listing((1, 2, 3)))
    with pytest.raises(ApiError, match="nothing was decided: the API's count of teams") as caught:
        read_listing(reads)
    assert caught.value.exit_code == 4 and reads.count == 2


def test_the_cap_is_refused_without_reading_again() -> None:
    capped = Listing((1,), "the API lists at most 10,000 teams, and this account has more", True)
    reads = Reads(capped, Listing((1, 2)))
    with pytest.raises(ApiError, match="at most 10,000 teams") as caught:
        read_listing(reads)
    assert reads.count == 1 and caught.value.hint is None


def test_a_listing_for_people_comes_as_it_is() -> None:
    reads = Reads(Listing((1,), CHANGED))
    assert read_listing(reads, whole=False).incomplete == CHANGED
    assert reads.count == 1
