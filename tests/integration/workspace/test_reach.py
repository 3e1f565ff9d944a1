"""Who reaches what on the staff side: a therapist their own, an admin every therapist; what
is out of reach answers as what does not exist."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from booking.core.errors import NotFound
from booking.staff.principal import Role, StaffPrincipal
from booking.staff.reach import booking_in_reach, therapist_in_reach, therapists_in_reach
from tests.factories import make_therapist
from tests.integration.practice import AT_10, Practice
from tests.integration.workspace.conftest import ADMIN, book, therapist


async def test_a_therapist_acts_for_their_own_therapist_only(practice: Practice) -> None:
    other = await make_therapist("ben", name="Ben Ortiz")
    ana = therapist(practice.therapist_id)

    assert (await therapist_in_reach(ana)).slug == "ana"
    assert (await therapist_in_reach(ana, "ana")).slug == "ana"
    with pytest.raises(NotFound) as named_other:
        await therapist_in_reach(ana, "ben")
    with pytest.raises(NotFound) as unknown:
        await therapist_in_reach(ana, "nobody")
    assert named_other.value.message == unknown.value.message
    assert (await therapist_in_reach(therapist(other), "ben")).slug == "ben"


async def test_an_admin_acts_for_the_therapist_named_or_the_first_of_the_directory(
    practice: Practice,
) -> None:
    await make_therapist("ben", name="Ben Ortiz")

    assert (await therapist_in_reach(ADMIN)).slug == "ana"
    assert (await therapist_in_reach(ADMIN, "ben")).slug == "ben"
    assert [t.slug for t in await therapists_in_reach(ADMIN)] == ["ana", "ben"]
    with pytest.raises(NotFound):
        await therapist_in_reach(ADMIN, "nobody")


async def test_a_therapist_account_without_a_therapist_reaches_nothing(
    practice: Practice, client: AsyncClient
) -> None:
    reference = await book(client, AT_10)
    orphan = StaffPrincipal(account_id=5, email="x@practice.example", name="X", role=Role.THERAPIST)

    with pytest.raises(NotFound):
        await therapist_in_reach(orphan)
    with pytest.raises(NotFound):
        await booking_in_reach(orphan, reference)


async def test_another_therapists_booking_is_the_same_404_as_no_booking(
    practice: Practice, client: AsyncClient
) -> None:
    reference = await book(client, AT_10)
    ben = therapist(await make_therapist("ben"), account_id=12)

    with pytest.raises(NotFound) as theirs:
        await booking_in_reach(ben, reference)
    with pytest.raises(NotFound) as missing:
        await booking_in_reach(ben, "NOPE-NOPE")
    with pytest.raises(NotFound):
        await booking_in_reach(ben, "x" * 500)

    assert theirs.value.message == missing.value.message
    assert (await booking_in_reach(therapist(practice.therapist_id), reference)).reference == (
        reference
    )
    assert (await booking_in_reach(ADMIN, f" {reference} ")).reference == reference
