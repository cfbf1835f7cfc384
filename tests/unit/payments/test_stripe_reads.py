"""Following Stripe's list cursor: every page of a long listing is read, and a listing that
never ends stops with an error in the log instead of looping or being cut off silently."""

from __future__ import annotations

import pytest
import stripe

from app.payments import stripe_reads
from app.payments.stripe_reads import _pages
from tests.helpers.logs import capture_info


def _page(ids: list[str], has_more: bool) -> stripe.ListObject[stripe.StripeObject]:
    return stripe.ListObject.construct_from(  # type: ignore[no-any-return]
        {"object": "list", "has_more": has_more, "url": "/v1/checkout/sessions",
         "data": [{"id": value, "object": "checkout.session"} for value in ids]}, "sk_test")


async def _read(fetch: object, max_pages: int = 10_000) -> list[str]:
    return [str(item["id"]) async for page in _pages(fetch, max_pages)  # type: ignore[arg-type]
            for item in page]


async def test_a_long_listing_is_read_to_its_end_following_the_cursor() -> None:
    ids = [f"cs_{n:05d}" for n in range(25_000)]  # past the old silent cap of 20 000
    asked: list[str | None] = []

    async def fetch(starting_after: str | None) -> stripe.ListObject[stripe.StripeObject]:
        asked.append(starting_after)
        start = 0 if starting_after is None else ids.index(starting_after) + 1
        return _page(ids[start:start + 100], start + 100 < len(ids))

    assert await _read(fetch) == ids
    assert asked[:3] == [None, "cs_00099", "cs_00199"]


async def test_a_cursor_that_does_not_move_stops_with_an_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def fetch(starting_after: str | None) -> stripe.ListObject[stripe.StripeObject]:
        return _page(["cs_a", "cs_b"], True)  # always the same page, "more" forever

    logs = capture_info(monkeypatch, stripe_reads).entries  # not capture_logs: see helper
    assert await _read(fetch) == ["cs_a", "cs_b"]
    assert [entry["log_level"] for entry in logs] == ["error"]
    assert "did not advance" in logs[0]["event"]


async def test_the_page_limit_stops_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fetch(starting_after: str | None) -> stripe.ListObject[stripe.StripeObject]:
        number = 0 if starting_after is None else int(starting_after[3:]) + 1
        return _page([f"cs_{number}"], True)

    logs = capture_info(monkeypatch, stripe_reads).entries
    assert await _read(fetch, max_pages=3) == ["cs_0", "cs_1", "cs_2"]
    assert "page limit" in logs[-1]["event"] and logs[-1]["log_level"] == "error"
