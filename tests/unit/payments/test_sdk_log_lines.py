"""The stripe SDK's per-request log lines are formatted only when its logger would emit them
(app/payments/stripe_gateway.py): dropped lines cost nothing, kept ones read as before."""

from __future__ import annotations

import logging

import pytest
from stripe import _api_requestor, _util

import app.payments.stripe_gateway  # noqa: F401  (installs the guard)


def test_lines_the_logger_drops_are_not_formatted(monkeypatch: pytest.MonkeyPatch) -> None:
    formatted: list[dict[str, object]] = []
    monkeypatch.setattr(_util, "logfmt", lambda props: formatted.append(props) or "line")
    monkeypatch.setattr(_util.logger, "level", logging.WARNING)
    _api_requestor.log_debug("API response body", body="{}")
    _api_requestor.log_info("Stripe API response", path="/v1/x", response_code=200)
    assert formatted == []


def test_lines_the_logger_keeps_are_logged_as_before(monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(_util.logger, "level", logging.DEBUG)
    with caplog.at_level(logging.DEBUG, logger="stripe"):
        _api_requestor.log_info("Stripe API response", path="/v1/x", response_code=200)
        _api_requestor.log_debug("API response body", body="{}")
    assert [record.getMessage() for record in caplog.records] == [
        "message='Stripe API response' path=/v1/x response_code=200",
        "body={} message='API response body'"]
