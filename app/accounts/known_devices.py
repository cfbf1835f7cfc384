"""Browsers an account has logged in from: after a successful login the browser gets a
cookie for that account (a random id and its HMAC with SECRET_KEY, one cookie per account,
a year, only sent to /login). Its only use is that the account's lock after failed logins
(`app/accounts/throttle.py`) does not hold that browser: the kitchen's tablet still logs in
while someone elsewhere guesses the kitchen's password. It is no credential: the password
is still asked for."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from app.settings import get_settings

PREFIX = "orderpass_device_"
MAX_AGE_S = 365 * 24 * 3600
PATH = "/login"


def _account(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def _mac(account: str, device: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{account}:{device}".encode(), hashlib.sha256).hexdigest()[:32]


def known_device(connection: ASGIConnection[Any, Any, Any, Any], email: str) -> str | None:
    """The id of `email`'s device cookie this browser holds, if it is genuine, else None."""
    account = _account(email)
    value = connection.cookies.get(PREFIX + account, "")
    device, _, mac = value.partition(".")
    if not device or len(device) > 64 or not hmac.compare_digest(mac, _mac(account, device)):
        return None
    return device


def cookie_for(email: str, device: str | None = None) -> Cookie:
    """The cookie that makes this browser known to `email`'s account (a new id unless the
    browser had one)."""
    account = _account(email)
    device = device or secrets.token_urlsafe(12)
    return Cookie(key=PREFIX + account, value=f"{device}.{_mac(account, device)}", path=PATH,
                  max_age=MAX_AGE_S, httponly=True, samesite="lax",
                  secure=get_settings().is_production)
