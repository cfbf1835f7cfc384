"""The Resend stand-in driven by the real `resend` SDK; events verified with `svix`."""

from __future__ import annotations

import httpx
import pytest
import resend
from resend.exceptions import RateLimitError, ResendError
from svix.webhooks import Webhook

from app.sandbox.resend import schema
from tests.helpers.sandbox import RESEND_TEST_KEY, RunningSandbox
from tests.helpers.webhook_receiver import RESEND_SECRET, Receiver

FROM = "Orderpass <orders@orderpass.test>"


def _email(to: str | list[str], **extra: object) -> resend.Emails.SendParams:
    params: dict[str, object] = {
        "from": FROM,
        "to": to,
        "subject": "Your order TEMP-abc123",
        "html": "<h1>Thanks!</h1><script>alert(1)</script>",
        "text": "Thanks!",
    }
    params.update(extra)
    return params  # type: ignore[return-value]


def test_send_single_and_read_back(sandbox: RunningSandbox, resend_sdk: None) -> None:
    sent = resend.Emails.send(_email("ada@example.com"))
    assert not schema.errors("SendEmailResponse", dict(sent))
    got = resend.Emails.get(sent["id"])
    wire = {k: v for k, v in dict(got).items() if k != "http_headers"}
    assert not schema.errors("Email", wire)
    assert wire["to"] == ["ada@example.com"] and wire["object"] == "email"
    [message] = sandbox.messages(to="ada@example.com")
    assert message["id"] == sent["id"]
    assert {"id", "to", "subject", "html", "text", "created_at"} <= message.keys()
    assert sandbox.messages(to="nobody@example.com") == []


def test_batch_send(sandbox: RunningSandbox, resend_sdk: None) -> None:
    result = resend.Batch.send(
        [_email("a@example.com"), _email(["b@example.com", "c@example.com"])]
    )
    body = {k: v for k, v in dict(result).items() if k != "http_headers"}
    assert not schema.errors("CreateBatchEmailsResponse", body)
    assert len(body["data"]) == 2
    assert len(sandbox.messages()) == 2
    assert len(sandbox.messages(to="c@example.com")) == 1


def test_idempotency_key_sends_once(sandbox: RunningSandbox, resend_sdk: None) -> None:
    options: resend.Emails.SendOptions = {"idempotency_key": "confirmation/TEMP-abc123"}
    first = resend.Emails.send(_email("ada@example.com"), options)
    second = resend.Emails.send(_email("ada@example.com"), options)
    assert first["id"] == second["id"]
    assert len(sandbox.messages()) == 1
    with pytest.raises(ResendError) as err:
        resend.Emails.send(_email("bob@example.com"), options)
    assert err.value.code == 409
    sandbox.advance_clock(24 * 3600 + 1)  # keys last 24 h
    third = resend.Emails.send(_email("ada@example.com"), options)
    assert third["id"] != first["id"]


def test_rate_limit_carries_retry_after(sandbox: RunningSandbox, resend_sdk: None) -> None:
    sandbox.api_faults(service="resend", status=429, count=1)
    raw = httpx.post(
        f"{sandbox.url}/emails",
        json=dict(_email("ada@example.com")),
        headers={"Authorization": "Bearer re_x"},
    )
    assert raw.status_code == 429 and raw.headers["retry-after"] == "1"
    assert raw.json()["name"] == "rate_limit_exceeded" and raw.json()["statusCode"] == 429
    sandbox.api_faults(service="resend", status=429, count=1)
    with pytest.raises(RateLimitError) as err:
        resend.Emails.send(_email("ada@example.com"))
    assert err.value.headers.get("retry-after") == "1"
    resend.Emails.send(_email("ada@example.com"))  # the next call passes

    sandbox.configure(resend_rate_limit_per_s=2)
    codes = [
        httpx.post(
            f"{sandbox.url}/emails", json=dict(_email("x@example.com")),
            headers={"Authorization": f"Bearer {RESEND_TEST_KEY}"},
        ).status_code
        for _ in range(3)
    ]  # fmt: skip
    assert codes == [200, 200, 429]


def test_validation_errors(sandbox: RunningSandbox, resend_sdk: None) -> None:
    with pytest.raises(ResendError) as err:
        resend.Emails.send({"from": FROM, "subject": "no recipient"})  # type: ignore[typeddict-item]
    assert err.value.code == 422 and err.value.error_type == "missing_required_field"
    with pytest.raises(ResendError) as err:
        resend.Emails.send(_email("ada@example.com", **{"from": "not an address"}))
    assert err.value.code == 422 and "from" in err.value.message
    with pytest.raises(ResendError) as err:
        resend.Emails.send(_email(["x@example.com"] * 51))
    assert err.value.code == 422
    raw = httpx.post(f"{sandbox.url}/emails", json=dict(_email("a@example.com")))
    assert raw.status_code == 401 and raw.json()["name"] == "missing_api_key"


def test_delivery_events_are_svix_signed(
    sandbox: RunningSandbox, resend_sdk: None, resend_receiver: Receiver
) -> None:
    resend.Emails.send(_email("delivered@resend.dev"))
    resend.Emails.send(_email("bounced@resend.dev"))
    sandbox.wait_for(lambda: len(resend_receiver.requests) == 4)
    verifier = Webhook(RESEND_SECRET)
    events = []
    for request in resend_receiver.requests:
        verifier.verify(request["body"], request["headers"])
        events.append(request["body"])
    types = [e["type"] for e in resend_receiver.bodies()]
    assert types == ["email.sent", "email.delivered", "email.sent", "email.bounced"]
    names = {
        "email.sent": "EmailSentEvent",
        "email.delivered": "EmailDeliveredEvent",
        "email.bounced": "EmailBouncedEvent",
    }
    for body in resend_receiver.bodies():
        assert not schema.errors(names[body["type"]], body)
    assert sandbox.messages(to="bounced@resend.dev")[0]["last_event"] == "bounced"


def test_mailbox_page_sandboxes_html(sandbox: RunningSandbox, resend_sdk: None) -> None:
    sent = resend.Emails.send(_email("ada@example.com", headers={"X-Order": "TEMP-abc123"}))
    listing = sandbox.http.get("/mail")
    assert "Your order TEMP-abc123" in listing.text
    page = sandbox.http.get("/mail", params={"id": sent["id"]})
    assert page.status_code == 200
    assert '<iframe sandbox=""' in page.text
    assert "<script>alert(1)</script>" not in page.text  # escaped into srcdoc, never live
    assert "&lt;script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "X-Order" in page.text and "Thanks!" in page.text
