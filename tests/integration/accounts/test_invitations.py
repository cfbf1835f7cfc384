"""Invitations end to end over HTTP with real Postgres, Redis and the Resend sandbox: who
invites whom, the email (its own kind through the outbox, the arq job and Resend's
idempotency key), the signed single-use expiring link, accepting (password, login), and bad
input that writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from arq.connections import ArqRedis

from app.accounts import emails, tokens
from app.accounts.tables import StaffInvitation, StaffUser
from app.notifications.tables import EmailMessage
from app.platform.tables import FunnelDaily, Outbox
from app.restaurants.tables import Restaurant
from app.settings import get_settings
from tests.helpers.accounts import Send, add_invitation, link_path, login, members_of
from tests.helpers.sandbox import RunningSandbox

GOOD_PASSWORD = "correct horse battery"


async def _invite(client: httpx.AsyncClient, token: str, email: str, role: str,
                  slug: str = "demo") -> httpx.Response:
    return await client.post(f"/manage/{slug}/staff/invitations",
                             data={"_csrf_token": token, "email": email, "role": role})


async def test_admin_invites_an_owner_who_accepts_and_is_logged_in(
        client: httpx.AsyncClient, other_client: httpx.AsyncClient, redis: ArqRedis,
        sandbox: RunningSandbox, send: Send) -> None:
    token = await login(client, "admin@orderpass.test")
    response = await _invite(client, token, "  Chef@Example.test ", "owner")
    assert response.status_code == 303
    assert response.headers["location"] == "/manage/demo/staff?done=invited"
    page = await client.get(response.headers["location"])
    assert "chef@example.test" in page.text and "Invitation sent." in page.text

    invitation = await StaffInvitation.objects().get(
        StaffInvitation.email == "chef@example.test")
    assert invitation is not None and invitation.role == "owner"
    assert invitation.invited_by_email == "admin@orderpass.test"
    ttl = invitation.expires_at - invitation.created_at
    assert abs(ttl - timedelta(hours=get_settings().invitation_ttl_hours)) < timedelta(minutes=1)
    ref = emails.invitation_ref(int(invitation.id))
    row = await EmailMessage.select().where(EmailMessage.order_ref == ref).first()
    assert row is not None
    assert (row["kind"], row["idempotency_key"], row["recipient"], row["status"]) == (
        "staff_invitation", f"staff_invitation/{ref}", "chef@example.test", "queued")
    # The fast path enqueued the worker's job (arq), the outbox row is done.
    jobs = [job for job in await redis.queued_jobs() if job.function == "send_email"]
    assert [job.args for job in jobs] == [("staff_invitation", ref)]
    assert await Outbox.count().where(Outbox.status == "done") == 1

    assert await send("staff_invitation", ref) == "sent via resend"
    assert await send("staff_invitation", ref) == "already sent"  # a repeated job
    messages = sandbox.messages(to="chef@example.test")
    assert len(messages) == 1
    message = messages[0]
    assert message["subject"] == "You are invited to Demo Bistro on Orderpass"
    assert "Accept the invitation" in message["html"] and "as an owner" in message["text"]
    sent = await EmailMessage.select().where(EmailMessage.order_ref == ref).first()
    assert sent is not None and sent["provider_id"] == message["id"]
    assert await FunnelDaily.count() == 0  # account emails are not order funnel emails

    path = link_path(message, "/invitations/")
    opened = await other_client.get(path)
    assert opened.status_code == 200
    assert "Join Demo Bistro" in opened.text and "chef@example.test" in opened.text
    assert opened.headers["cache-control"] == "no-store"
    csrf = other_client.cookies["csrftoken"]
    accepted = await other_client.post(path, data={
        "_csrf_token": csrf, "password": GOOD_PASSWORD, "password_confirmation": GOOD_PASSWORD})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/manage/demo"
    assert (await other_client.get("/manage/demo/settings")).status_code == 200  # an owner
    user = await StaffUser.objects().get(StaffUser.email == "chef@example.test")
    assert user is not None and user.role == "owner" and user.password_hash != GOOD_PASSWORD
    # Single use: the link now says so, and accepting again creates nothing.
    again = await client.get(path)
    assert again.status_code == 410 and "already accepted" in again.text
    await client.get("/login")
    retry = await client.post(path, data={"_csrf_token": client.cookies["csrftoken"],
                                          "password": GOOD_PASSWORD,
                                          "password_confirmation": GOOD_PASSWORD})
    assert retry.status_code == 410
    assert await StaffUser.count().where(StaffUser.email == "chef@example.test") == 1
    # The new owner logs in with the password they chose.
    await other_client.post("/logout", data={"_csrf_token": other_client.cookies["csrftoken"]})
    await other_client.get("/login")
    logged_in = await other_client.post("/login", data={
        "_csrf_token": other_client.cookies["csrftoken"], "email": "chef@example.test",
        "password": GOOD_PASSWORD})
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/manage/demo"


async def test_an_owner_invites_kitchen_staff_who_see_the_board(
        client: httpx.AsyncClient, other_client: httpx.AsyncClient, sandbox: RunningSandbox,
        send: Send) -> None:
    token = await login(client, "owner@demo.test")
    staff_page = await client.get("/manage/demo/staff")
    # The owner may hand out manager and kitchen, not owner.
    assert '<option value="kitchen"' in staff_page.text
    assert '<option value="manager"' in staff_page.text
    assert '<option value="owner"' not in staff_page.text
    assert (await _invite(client, token, "cook@example.test", "kitchen")).status_code == 303
    invitation = await StaffInvitation.objects().get(StaffInvitation.email == "cook@example.test")
    assert invitation is not None
    await send("staff_invitation", emails.invitation_ref(int(invitation.id)))
    path = link_path(sandbox.messages(to="cook@example.test")[0], "/invitations/")
    await other_client.get(path)
    accepted = await other_client.post(path, data={
        "_csrf_token": other_client.cookies["csrftoken"], "password": GOOD_PASSWORD,
        "password_confirmation": GOOD_PASSWORD})
    assert accepted.headers["location"] == "/kitchen/demo"
    assert (await other_client.get("/kitchen/demo")).status_code == 200
    assert (await other_client.get("/manage/demo")).status_code == 403
    assert (await members_of("demo"))["cook@example.test"] == "kitchen"


async def test_bad_invitations_get_field_errors_and_write_nothing(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    token = await login(client, "owner@demo.test")
    cases = [
        ({"email": "", "role": "kitchen"}, "email", "Required."),
        ({"email": "not-an-address", "role": "kitchen"}, "email", "@-sign"),
        ({"email": "x" * 300 + "@example.test", "role": "kitchen"}, "email", "valid email"),
        ({"email": "a\x00b@example.test", "role": "kitchen"}, "email", "valid email"),
        ({"email": "cook@example.test", "role": ""}, "role", "Choose a role."),
        ({"email": "cook@example.test", "role": "chef"}, "role", "Choose a role."),
        ({"email": "kitchen@demo.test", "role": "kitchen"}, "email", "Already a member"),
    ]
    for data, field, message in cases:
        response = await client.post("/manage/demo/staff/invitations",
                                     data={"_csrf_token": token, **data})
        assert response.status_code == 422, (data, response.status_code)
        assert f'id="{field}-error"' in response.text, (data, response.text[-2000:])
        assert message in response.text, (data, message)
        assert "Nobody was invited." in response.text
    assert await StaffInvitation.count() == 0
    assert await EmailMessage.count() == 0 and await Outbox.count() == 0
    assert not await redis.queued_jobs()


async def test_inviting_again_withdraws_the_first_link(
        client: httpx.AsyncClient, sandbox: RunningSandbox, send: Send) -> None:
    token = await login(client, "owner@demo.test")
    await _invite(client, token, "cook@example.test", "kitchen")
    first = await StaffInvitation.objects().get(StaffInvitation.email == "cook@example.test")
    assert first is not None
    await send("staff_invitation", emails.invitation_ref(int(first.id)))
    first_link = link_path(sandbox.messages(to="cook@example.test")[0], "/invitations/")
    await _invite(client, token, "cook@example.test", "manager")
    rows = await StaffInvitation.select().order_by(StaffInvitation.id)
    assert [(row["role"], row["revoked_at"] is not None) for row in rows] == [
        ("kitchen", True), ("manager", False)]
    stale = await client.get(first_link)
    assert stale.status_code == 410 and "withdrawn" in stale.text
    # The withdrawn invitation's email, had it not gone out yet, is not sent at all.
    assert await send("staff_invitation", emails.invitation_ref(int(first.id))) == \
        "already sent"
    second = rows[1]["id"]
    withdraw = await client.post(f"/manage/demo/staff/invitations/{second}/withdraw",
                                 data={"_csrf_token": token})
    assert withdraw.status_code == 303
    outcome = await send("staff_invitation", emails.invitation_ref(second))
    assert outcome == "skipped: invitation withdrawn"
    assert len(sandbox.messages(to="cook@example.test")) == 1
    row = await EmailMessage.select().where(
        EmailMessage.order_ref == emails.invitation_ref(second)).first()
    assert row is not None and row["status"] == "failed"


async def test_expired_forged_and_foreign_links_are_refused(
        client: httpx.AsyncClient) -> None:
    await client.get("/login")
    csrf = client.cookies["csrftoken"]
    form = {"_csrf_token": csrf, "password": GOOD_PASSWORD,
            "password_confirmation": GOOD_PASSWORD}
    _, expired = await add_invitation("late@example.test", expires_in=timedelta(seconds=-1))
    page = await client.get(expired)
    assert page.status_code == 410 and "expired" in page.text
    assert (await client.post(expired, data=form)).status_code == 410
    invitation_id, good = await add_invitation("cook@example.test")
    token = good.rsplit("/", 1)[1]
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature broken
        tokens.make("staff-invitation", invitation_id, "guessed-nonce"),  # wrong nonce
        tokens.make("password-reset", invitation_id, "x"),  # another purpose's token
        tokens.make("staff-invitation", 999_999, "x"),  # no such invitation
        "x" * 5000, "a.b.c", "WzEsIngiXQ",
    ]
    for bad in forged:
        response = await client.get(f"/invitations/{bad}")
        assert response.status_code in (404, 410), (bad[:40], response.status_code)
        assert (await client.post(f"/invitations/{bad}", data=form)).status_code in (404, 410)
    # A NUL in a URL is refused at the edge, before any handler (app/infra/input_guard.py).
    assert (await client.get("/invitations/%00")).status_code == 400
    assert await StaffUser.count().where(StaffUser.email == "cook@example.test") == 0
    assert await StaffUser.count().where(StaffUser.email == "late@example.test") == 0


async def test_a_bad_password_keeps_the_invitation_open_and_creates_nothing(
        client: httpx.AsyncClient) -> None:
    _, link = await add_invitation("cook@example.test")
    await client.get(link)
    csrf = client.cookies["csrftoken"]
    for password, confirmation, field, message in [
            ("short", "short", "password", "At least 10 characters."),
            ("x" * 257, "x" * 257, "password", "At most 256 characters."),
            ("cook@example.test", "cook@example.test", "password", "Not your email"),
            (GOOD_PASSWORD, GOOD_PASSWORD + "!", "password_confirmation", "differ")]:
        response = await client.post(link, data={"_csrf_token": csrf, "password": password,
                                                 "password_confirmation": confirmation})
        assert response.status_code == 422
        assert f'id="{field}-error"' in response.text and message in response.text
        assert password not in response.text.replace("cook@example.test", "")
    assert await StaffUser.count().where(StaffUser.email == "cook@example.test") == 0
    assert (await client.get(link)).status_code == 200  # still usable


async def test_invitation_email_escapes_names_and_renders_the_same_twice() -> None:
    from app.restaurants.tables import Restaurant

    await Restaurant.update({Restaurant.name: "<script>alert(1)</script> Bistro"}).where(
        Restaurant.slug == "demo")
    invitation_id, link = await add_invitation("cook@example.test")
    first = await emails.compose(emails.INVITATION, emails.invitation_ref(invitation_id),
                                 "https://orderpass.example")
    second = await emails.compose(emails.INVITATION, emails.invitation_ref(invitation_id),
                                  "https://orderpass.example")
    assert not isinstance(first, str) and first == second  # a retry sends the same body
    assert "<script>alert" not in first.rendered.html
    assert "&lt;script&gt;" in first.rendered.html
    assert f"https://orderpass.example{link}" in first.rendered.text
    assert "\n" not in first.rendered.subject


async def test_an_account_elsewhere_is_not_revealed_to_the_inviting_owner(
        client: httpx.AsyncClient, other_client: httpx.AsyncClient, sandbox: RunningSandbox,
        send: Send) -> None:
    """Inviting an address with an account at another restaurant (or the platform's) said
    "This address already has an Orderpass account": one restaurant's owner learnt that a
    person works elsewhere. Now it goes exactly as inviting an unknown address; only the
    invitee, opening the link, is told why it cannot be accepted, and nothing changes."""
    token = await login(client, "owner@demo.test")
    addresses = ("stranger@example.test", "kitchen@demo-2.test", "admin@orderpass.test")
    outcomes = []
    for address in addresses:
        response = await _invite(client, token, address, "kitchen")
        outcomes.append((response.status_code, response.headers.get("location")))
    assert outcomes == [(303, "/manage/demo/staff?done=invited")] * 3
    page = (await client.get("/manage/demo/staff?done=invited")).text
    assert "Invitation sent." in page
    for address in addresses:
        invited = page.split(f'data-email="{address}"')[1][:600]
        assert "open until" in invited, address
    # The invitee (the address's owner) gets the email; the link tells them alone.
    await send("staff_invitation", emails.invitation_ref(
        await _invitation_id("kitchen@demo-2.test")))
    path = link_path(sandbox.messages(to="kitchen@demo-2.test")[0], "/invitations/")
    opened = await other_client.get(path)
    assert opened.status_code == 410 and "already has an Orderpass account" in opened.text
    accepted = await other_client.post(path, data={
        "_csrf_token": other_client.cookies["csrftoken"], "password": GOOD_PASSWORD,
        "password_confirmation": GOOD_PASSWORD})
    assert accepted.status_code == 410 and "cannot join Demo Bistro" in accepted.text
    assert (await members_of("demo-2"))["kitchen@demo-2.test"] == "kitchen"
    assert "kitchen@demo-2.test" not in await members_of("demo")
    # To the owner it stays an open invitation, like one nobody answered.
    staff_page = (await client.get("/manage/demo/staff")).text
    assert "open until" in staff_page.split('data-email="kitchen@demo-2.test"')[1][:600]
    # A member of this restaurant may still be told so.
    member = await _invite(client, token, "kitchen@demo.test", "kitchen")
    assert member.status_code == 422 and "Already a member of this restaurant." in member.text


async def test_the_staff_page_shows_an_invitation_expiry_on_the_restaurants_clock(
        client: httpx.AsyncClient) -> None:
    """It said "open until 05 Dec 2026 14:40 UTC" to an owner in Tokyo."""
    await Restaurant.update({Restaurant.timezone: "Asia/Tokyo"}).where(
        Restaurant.slug == "demo")
    token = await login(client, "owner@demo.test")
    assert (await _invite(client, token, "cook@example.test", "kitchen")).status_code == 303
    invitation = await StaffInvitation.objects().get(
        StaffInvitation.email == "cook@example.test")
    assert invitation is not None
    local = invitation.expires_at.astimezone(ZoneInfo("Asia/Tokyo"))
    page = (await client.get("/manage/demo/staff")).text
    shown = page.split('data-email="cook@example.test"')[1][:600]
    assert "open until" in shown
    assert f">{local:%H:%M} on {local.day} {local:%b %Y} (JST)</time>" in shown, shown
    assert "UTC" not in shown


async def test_the_invitation_email_writes_its_expiry_as_the_staff_page_does(
        client: httpx.AsyncClient, sandbox: RunningSandbox, send: Send) -> None:
    """The page said "open until 17:14 on 6 Jan 2027 (CET)", the email "06 Jan 2027"."""
    token = await login(client, "owner@demo.test")
    assert (await _invite(client, token, "cook@example.test", "kitchen")).status_code == 303
    invitation = await StaffInvitation.objects().get(
        StaffInvitation.email == "cook@example.test")
    assert invitation is not None
    year = datetime.now(UTC).year + 1
    await StaffInvitation.update({StaffInvitation.expires_at: datetime(
        year, 1, 6, 16, 14, tzinfo=UTC)}).where(StaffInvitation.id == invitation.id)
    shown = f"17:14 on 6 Jan {year} (CET)"
    assert shown in (await client.get("/manage/demo/staff")).text
    assert await send("staff_invitation", emails.invitation_ref(int(invitation.id))) \
        == "sent via resend"
    [message] = sandbox.messages(to="cook@example.test")
    assert shown in message["text"] and shown in message["html"], message["text"]


async def _invitation_id(address: str) -> int:
    row = await StaffInvitation.select(StaffInvitation.id).where(
        (StaffInvitation.email == address.lower())
        & StaffInvitation.revoked_at.is_null()).first()
    assert row is not None, address
    return int(row["id"])
