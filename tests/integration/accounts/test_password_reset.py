"""Password reset over HTTP with real Postgres, Redis and the Resend sandbox: the same answer
for known and unknown addresses, the emailed single-use expiring link, the new password,
old sessions ended, the per-account and per-address limits, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from arq.connections import ArqRedis

from app.accounts import emails, tokens
from app.accounts.passwords import verify_password
from app.accounts.tables import PasswordReset, StaffUser
from app.notifications.tables import EmailMessage
from app.settings import get_settings
from tests.helpers.accounts import PASSWORD, Send, link_path, login, user_id
from tests.helpers.sandbox import RunningSandbox

NEW_PASSWORD = "a much better password"
HTML = {"accept": "text/html"}


async def _ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    if "csrftoken" not in client.cookies:
        await client.get("/password-reset")
    return await client.post("/password-reset", data={
        "_csrf_token": client.cookies["csrftoken"], "email": email})


async def _reset_link(client: httpx.AsyncClient, email: str, sandbox: RunningSandbox,
                      send: Send) -> str:
    assert (await _ask(client, email)).status_code == 200
    reset = await PasswordReset.select().order_by(PasswordReset.id, ascending=False).first()
    assert reset is not None
    assert await send("password_reset", emails.reset_ref(reset["id"])) == "sent via resend"
    return link_path(sandbox.messages(to=email)[0], "/password-reset/")


async def test_known_and_unknown_addresses_get_the_same_answer(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    known = await _ask(client, "kitchen@demo.test")
    unknown = await _ask(client, "nobody@demo.test")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("kitchen@demo.test", "X") == \
        unknown.text.replace("nobody@demo.test", "X")
    assert 'id="reset-sent"' in known.text
    # Only the known address got a reset and an email.
    assert await PasswordReset.count() == 1
    rows = await EmailMessage.select(EmailMessage.kind, EmailMessage.recipient)
    assert rows == [{"kind": "password_reset", "recipient": "kitchen@demo.test"}]
    assert [job.args[0] for job in await redis.queued_jobs()] == ["password_reset"]


async def test_reset_sets_the_password_ends_old_sessions_and_uses_up_the_link(
        client: httpx.AsyncClient, other_client: httpx.AsyncClient, sandbox: RunningSandbox,
        send: Send) -> None:
    # A tablet logged in with the old password before the reset.
    await login(other_client, "kitchen@demo.test")
    assert (await other_client.get("/kitchen/demo")).status_code == 200
    older = await _reset_link(client, "kitchen@demo.test", sandbox, send)
    sandbox.reset()
    link = await _reset_link(client, "kitchen@demo.test", sandbox, send)
    message = sandbox.messages(to="kitchen@demo.test")[0]
    assert message["subject"] == "Reset your Orderpass password"
    assert "Demo Bistro" in message["html"]  # sent in the restaurant's name

    page = await client.get(link)
    assert page.status_code == 200 and "kitchen@demo.test" in page.text
    assert page.headers["cache-control"] == "no-store"
    saved = await client.post(link, data={"_csrf_token": client.cookies["csrftoken"],
                                          "password": NEW_PASSWORD,
                                          "password_confirmation": NEW_PASSWORD})
    assert saved.status_code == 303 and saved.headers["location"] == "/kitchen/demo"
    assert (await client.get("/kitchen/demo")).status_code == 200  # logged in, new session

    # The tablet's session ended with the reset.
    ended = await other_client.get("/kitchen/demo", headers=HTML)
    assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
    user = await StaffUser.objects().get(StaffUser.email == "kitchen@demo.test")
    assert user is not None and user.session_version == 2
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD)
    # The link, and the older one sent before it, are used up.
    for used in (link, older):
        again = await client.get(used)
        assert again.status_code == 410 and "already used" in again.text
    assert await PasswordReset.count().where(PasswordReset.used_at.is_null()) == 0
    # Old password refused at the login form, new one accepted.
    await other_client.get("/login")
    csrf = other_client.cookies["csrftoken"]
    refused = await other_client.post("/login", data={
        "_csrf_token": csrf, "email": "kitchen@demo.test", "password": PASSWORD})
    assert refused.status_code == 401
    accepted = await other_client.post("/login", data={
        "_csrf_token": csrf, "email": "kitchen@demo.test", "password": NEW_PASSWORD})
    assert accepted.status_code == 303


async def test_the_platform_admin_can_reset_too(
        client: httpx.AsyncClient, sandbox: RunningSandbox, send: Send) -> None:
    link = await _reset_link(client, "admin@orderpass.test", sandbox, send)
    message = sandbox.messages(to="admin@orderpass.test")[0]
    assert "Orderpass" in message["html"]
    saved = await client.post(link, data={"_csrf_token": client.cookies["csrftoken"],
                                          "password": NEW_PASSWORD,
                                          "password_confirmation": NEW_PASSWORD})
    assert saved.status_code == 303
    assert (await client.get("/admin/system")).status_code == 200


async def test_bad_new_passwords_get_field_errors_and_change_nothing(
        client: httpx.AsyncClient, sandbox: RunningSandbox, send: Send) -> None:
    link = await _reset_link(client, "owner@demo.test", sandbox, send)
    before = await StaffUser.objects().get(StaffUser.email == "owner@demo.test")
    assert before is not None
    for password, confirmation, field in [("short", "short", "password"),
                                          ("owner@demo.test", "owner@demo.test", "password"),
                                          (NEW_PASSWORD, "something else", "password_confirmation"),
                                          ("", "", "password")]:
        response = await client.post(link, data={"_csrf_token": client.cookies["csrftoken"],
                                                 "password": password,
                                                 "password_confirmation": confirmation})
        assert response.status_code == 422 and f'id="{field}-error"' in response.text
    after = await StaffUser.objects().get(StaffUser.email == "owner@demo.test")
    assert after is not None
    assert (after.password_hash, after.session_version) == (before.password_hash,
                                                           before.session_version)
    assert (await client.get(link)).status_code == 200  # still usable


async def test_expired_and_forged_links_are_refused(client: httpx.AsyncClient) -> None:
    await client.get("/password-reset")
    form = {"_csrf_token": client.cookies["csrftoken"], "password": NEW_PASSWORD,
            "password_confirmation": NEW_PASSWORD}
    owner = await user_id("owner@demo.test")
    reset = PasswordReset(staff_user=owner, nonce="n1",
                          expires_at=datetime.now(UTC) - timedelta(seconds=1))
    await reset.save()
    expired = emails.reset_url("", int(reset.id), "n1")
    assert (await client.get(expired)).status_code == 410
    assert (await client.post(expired, data=form)).status_code == 410
    fresh = PasswordReset(staff_user=owner, nonce="n2",
                          expires_at=datetime.now(UTC) + timedelta(minutes=5))
    await fresh.save()
    for token in [tokens.make("password-reset", int(fresh.id), "wrong"),
                  tokens.make("staff-invitation", int(fresh.id), "n2"),
                  tokens.make("password-reset", int(fresh.id), "n2")[:-3] + "abc"]:
        assert (await client.get(f"/password-reset/{token}")).status_code == 404
        assert (await client.post(f"/password-reset/{token}", data=form)).status_code == 404
    user = await StaffUser.objects().get(StaffUser.id == owner)
    assert user is not None and verify_password(user.password_hash, PASSWORD)


async def test_asking_is_limited_per_account_and_per_address(
        client: httpx.AsyncClient) -> None:
    per_hour = get_settings().password_reset_emails_per_hour
    for _ in range(per_hour + 2):
        assert (await _ask(client, "kitchen@demo.test")).status_code == 200
    assert await PasswordReset.count() == per_hour  # the rest answered alike, sent nothing
    assert await EmailMessage.count() == per_hour
    per_minute = get_settings().password_reset_requests_per_minute
    statuses = [(await _ask(client, "nobody@demo.test")).status_code
                for _ in range(per_minute)]
    assert statuses[-1] == 429  # this address (the test client) asked too often


async def test_a_malformed_address_gets_a_field_error(client: httpx.AsyncClient) -> None:
    for bad in ["", "no-at-sign", "a@b", "x" * 300]:
        response = await _ask(client, bad)
        assert response.status_code == 422 and 'id="email-error"' in response.text
    assert await PasswordReset.count() == 0
