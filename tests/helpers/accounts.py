"""Staff logins for tests: the demo password, logging a client in (the CSRF token returned),
reading a form's CSRF token."""

from __future__ import annotations

import re

import httpx

PASSWORD = "demo"


async def login(client: httpx.AsyncClient, email: str) -> str:
    """Log `client` in as `email`; returns the CSRF token to send with forms."""
    login_page = await client.get("/login")
    assert login_page.status_code == 200, login_page.text
    token = client.cookies["csrftoken"]
    response = await client.post("/login", data={
        "email": email, "password": PASSWORD, "_csrf_token": token})
    assert response.status_code == 303, response.text
    return token


def csrf_from_html(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no csrf token in page"
    return match.group(1)
