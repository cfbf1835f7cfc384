"""Fixtures for the email tests (integration/notifications, reliability's regressions): a
sandbox (Resend over real HTTP), settings pointing at it, temp orders in Redis, a real SMTP
server (aiosmtpd) and an arq-style ctx for jobs."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from arq.connections import ArqRedis

from app.orders.models import Customer, OrderLine, TempOrder
from app.orders.temp_store import TempOrderStore, new_temp_id
from app.restaurants.tables import Restaurant
from app.settings import Settings, get_settings
from tests.helpers.sandbox import RunningSandbox, free_port, start_sandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with start_sandbox(tmp_path) as running:
        yield running


@pytest.fixture
def settings(sandbox: RunningSandbox) -> Settings:
    return get_settings().model_copy(update={
        "resend_api_url": sandbox.url, "resend_timeout_seconds": 5.0,
        "public_base_url": "https://orderpass.example",
    })


@pytest.fixture
def ctx(redis: ArqRedis, settings: Settings) -> Callable[[int], dict[str, Any]]:
    def make(job_try: int = 1, **overrides: Any) -> dict[str, Any]:
        chosen = settings.model_copy(update=overrides) if overrides else settings
        return {"redis": redis, "settings": chosen, "job_try": job_try}
    return make


MakeOrder = Callable[..., Awaitable[TempOrder]]


@pytest.fixture
def make_order(redis: ArqRedis) -> MakeOrder:
    async def make(*, email_address: str = "ann@example.com", name: str = "Ann",
                   notes: str = "", line_name: str = "Tomato soup",
                   payment_url: str | None = "https://pay.example/cs_test_1?a=1&b=2",
                   slug: str = "demo") -> TempOrder:
        restaurant = await Restaurant.select().where(Restaurant.slug == slug).first()
        assert restaurant is not None
        now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
        order = TempOrder(
            id=new_temp_id(), restaurant_id=restaurant["id"], restaurant_slug=slug,
            restaurant_name=restaurant["name"], currency=restaurant["currency"],
            capture_mode=restaurant["capture_mode"], prep_minutes=15,
            lines=[OrderLine(menu_item_id=1, name=line_name, unit_amount=650, quantity=2,
                             notes=notes)],
            total_amount=1300, customer=Customer(name=name, email=email_address),
            fulfillment="pickup", created_at=now, notes=notes, payment_url=payment_url,
            expires_at=now + timedelta(hours=1) if payment_url else None,
        )
        await TempOrderStore(redis, ttl_seconds=3600).put(order)
        return order
    return make


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()
