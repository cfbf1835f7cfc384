"""Form input shared by the account pages: field errors, email addresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email
from litestar import Request

from app.settings import get_settings


class FormInvalid(Exception):
    """Field-by-field problems; nothing was written."""

    def __init__(self, errors: dict[str, str], values: Mapping[str, Any]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors
        self.values = dict(values)


class NotAllowed(Exception):
    """The person asking may not do this (their role, or it is their own account)."""


class NotFound(LookupError):
    pass


def email_address(raw: str) -> tuple[str, str]:
    """(normalised lower-case address, error or ''). `.test` addresses pass outside
    production (the demo accounts and the sandbox mailbox use them)."""
    value = raw.strip()
    if not value:
        return "", "Required."
    if len(value) > 254 or "\x00" in value:
        return value[:254], "Enter a valid email address."
    try:
        checked = validate_email(value, check_deliverability=False,
                                 test_environment=not get_settings().is_production)
    except EmailNotValidError as error:
        return value, str(error)
    return checked.normalized.lower(), ""


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The posted form's text fields (files ignored)."""
    form = await request.form()
    return {str(key): str(value) for key, value in form.items() if isinstance(value, str)}
