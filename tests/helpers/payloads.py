"""Hostile strings a customer can type into a name or a note, a structural check that
HTML built from them holds no live element or attribute, Svix (Resend) signing, and the check
that an error answer names no Python internals."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import httpx
from svix.webhooks import Webhook

from app.settings import get_settings

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '<div hx-get="/logout" hx-trigger="load">',
]
ESCAPED_MARKERS = ["&lt;script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "&lt;div hx-get="]
# None of these may appear verbatim in HTML built from those strings.
LIVE_MARKERS = ["<script>alert(1)", "<img src=x", "<div hx-get"]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not values.get("src"):
            self.problems.append("inline <script>")
        if tag == "img" and values.get("src") == "x":
            self.problems.append("<img src=x>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name.startswith("hx-") and value and "/logout" in value:
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "hx-trigger" and value == "load":
                self.problems.append(f"<{tag} hx-trigger=load>")


def live_problems(html: str) -> list[str]:
    """Elements or attributes in `html` that a hostile string could have produced."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.problems + [marker for marker in LIVE_MARKERS if marker in html]


def svix_signed(body: bytes, msg_id: str) -> dict[str, str]:
    now = datetime.now(UTC)
    secret = get_settings().resend_webhook_secret
    return {"svix-id": msg_id, "svix-timestamp": str(int(now.timestamp())),
            "svix-signature": Webhook(secret).sign(msg_id, now, body.decode("utf-8", "replace")),
            "content-type": "application/json"}


# What a Python error message looks like; none may reach a client.
INTERNALS = ("Traceback", "invalid literal", "Exceeds the limit", "digits", "recursion",
             "Error(", "object has no attribute", "NoneType", "asyncpg", "msgspec")


def plain_4xx(response: httpx.Response, *allowed: int) -> None:
    """A 4xx (one of `allowed` if given) whose body names no Python internals."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if allowed:
        assert response.status_code in allowed, (response.status_code, response.text[:300])
    for marker in INTERNALS:
        assert marker.lower() not in response.text.lower(), (marker, response.text[:300])
