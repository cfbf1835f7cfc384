"""Email tests: the email fixtures (tests/helpers/fixtures_email.py)."""

from __future__ import annotations

from tests.helpers.fixtures_email import *  # noqa: F403
