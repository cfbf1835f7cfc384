"""The owner's dish form as a browser would post it back: every field as the page fills it."""

from __future__ import annotations

import html
import re

import httpx

HIDDEN = re.compile(r'<input[^>]*name="(?P<name>[^"]+)"[^>]*value="(?P<value>[^"]*)"')
TICKED = re.compile(r'<input type="checkbox" name="(?P<name>[^"]+)"[^>]* checked>')
TEXTAREA = re.compile(r'<textarea[^>]*name="(?P<name>[^"]+)"[^>]*>(?P<value>[^<]*)</textarea>')


async def item_form(client: httpx.AsyncClient, item_id: int, slug: str = "demo"
                    ) -> dict[str, str]:
    """The edit form's fields as the page fills them (what a tab would post back)."""
    page = await client.get(f"/manage/{slug}/menu/items/{item_id}")
    assert page.status_code == 200
    return form_fields(page.text)


def form_fields(page: str) -> dict[str, str]:
    fields = {match["name"]: html.unescape(match["value"]) for match in HIDDEN.finditer(page)
              if 'type="checkbox"' not in match[0] and 'type="file"' not in match[0]}
    fields.pop("photo", None)
    fields |= {match["name"]: "on" for match in TICKED.finditer(page)}
    fields |= {match["name"]: html.unescape(match["value"])
               for match in TEXTAREA.finditer(page)}
    return fields
