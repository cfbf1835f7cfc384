"""SMTP relay transport (stdlib smtplib in a thread): the fallback when Resend keeps failing.

`SMTP_RELAY_URL` is `smtp://[user:pass@]host[:port]` (add `?starttls=1` to upgrade) or
`smtps://…` for implicit TLS. SMTP has no idempotency key, so the Message-ID is derived from
ours: a relay or mailbox that dedupes on Message-ID drops a repeat.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from app.notifications.compose import RenderedEmail


class SmtpSendError(Exception):
    pass


def message_id(idempotency_key: str) -> str:
    return f"<{idempotency_key.replace('/', '.')}@orderpass>"


def build_message(email: RenderedEmail, *, sender: str, recipient: str,
                  idempotency_key: str, reply_to: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(idempotency_key)
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


def _send_blocking(url: str, message: EmailMessage, timeout_s: float) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SmtpSendError("SMTP_RELAY_URL must look like smtp://host:port")
    query = parse_qs(parts.query)
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    client: smtplib.SMTP
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(parts.hostname, port, timeout=timeout_s,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(parts.hostname, port, timeout=timeout_s)
    with client:
        if query.get("starttls", ["0"])[0] in ("1", "true", "yes"):
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


async def send_smtp(url: str, message: EmailMessage, timeout_s: float) -> None:
    """Deliver through the relay; raises SmtpSendError on any failure."""
    try:
        async with asyncio.timeout(timeout_s * 2):
            await asyncio.to_thread(_send_blocking, url, message, timeout_s)
    except (OSError, smtplib.SMTPException, TimeoutError) as error:
        raise SmtpSendError(f"smtp: {error!r}"[:1000]) from error
