"""A kitchen screen driven over HTTP by a test: logged in, acting on tickets, logging in
again when a Redis flush ended its session."""

from __future__ import annotations

from typing import Protocol

import httpx

from tests.helpers.accounts import PASSWORD


class HasWebUrl(Protocol):
    web_url: str


class Cook:
    """A logged-in kitchen screen (logs in again when a Redis flush ended its session)."""

    def __init__(self, stack: HasWebUrl, slug: str) -> None:
        self.stack, self.slug = stack, slug
        self.client = httpx.Client(base_url=stack.web_url, timeout=30)
        self.login()

    def login(self) -> None:
        self.client.cookies.clear()
        self.client.get("/login")
        response = self.client.post("/login", data={
            "email": f"kitchen@{self.slug}.test", "password": PASSWORD,
            "_csrf_token": self.client.cookies["csrftoken"]})
        assert response.status_code == 303, response.text

    def act(self, slug: str, ref: str, action: str) -> int:
        for _ in range(2):
            response = self.client.post(
                f"/kitchen/{slug}/orders/{ref}/{action}", data={"reason": "reliability"},
                headers={"x-csrftoken": self.client.cookies.get("csrftoken") or "",
                         "hx-request": "true"})
            if response.status_code == 401 or "/login" in response.headers.get(
                    "location", ""):  # a Redis flush ended the session
                self.login()
                continue
            return response.status_code
        raise AssertionError(f"cook of {self.slug} cannot act: {response.status_code}")
