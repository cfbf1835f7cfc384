"""What keeps the suite's parallel workers (pytest-xdist) apart on one standalone Redis: a
database number and a pub/sub channel prefix of their own."""

from __future__ import annotations

import pytest

from app.kitchen.floor import menu_channel
from app.live.feed import kitchen_channel, order_channel
from app.settings import reset_settings_cache
from tests.helpers.infra import worker_redis_url


@pytest.fixture
def clean_settings() -> object:
    reset_settings_cache()
    yield
    reset_settings_cache()


def test_each_worker_takes_its_own_redis_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert worker_redis_url("redis://127.0.0.1:6379/9") == "redis://127.0.0.1:6379/9"
    for worker, database in [("gw0", 9), ("gw1", 10), ("gw2", 11)]:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        assert worker_redis_url("redis://127.0.0.1:6379/9") == f"redis://127.0.0.1:6379/{database}"
    assert worker_redis_url("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379/2"


def test_channel_names_keep_their_form_unless_a_prefix_is_set(
        monkeypatch: pytest.MonkeyPatch, clean_settings: object) -> None:
    monkeypatch.delenv("REDIS_CHANNEL_PREFIX", raising=False)
    assert kitchen_channel(1) == "orderpass:kitchen:1"
    assert order_channel("TEMP-abc") == "orderpass:order:TEMP-abc"
    assert menu_channel(2) == "orderpass:menu:2"
    monkeypatch.setenv("REDIS_CHANNEL_PREFIX", "staging")
    reset_settings_cache()
    assert kitchen_channel(1) == "staging:kitchen:1"
    assert order_channel("TEMP-abc") == "staging:order:TEMP-abc"
    assert menu_channel(2) == "staging:menu:2"
