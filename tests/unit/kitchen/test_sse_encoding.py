"""A live frame's bytes are what Litestar's own SSE encoder makes of the same message: the
hub's encoder is a shortcut for the shape it sends, not a second format."""

from __future__ import annotations

import pytest
from litestar.response import ServerSentEventMessage

from app.live.sse import compact, encoded


@pytest.mark.parametrize("data", [
    "", "one line", "a\nb", "a\r\nb\rc\nd", "\n", "trailing\n", "\r\n\r\n",
    '{"id":"TEMP-1","status":"paid"}', "<li>\n<b>Soup</b> x2\n</li>", "ünïcödé\u2028x",
])
def test_bytes_match_litestars_encoder(data: str) -> None:
    ours = encoded("tickets", data)
    theirs = ServerSentEventMessage(data=data, event="tickets", id=ours.id).encode()
    assert ours.encode() == theirs
    assert ours.data == data


def test_an_event_name_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="line breaks"):
        encoded("tick\nets", "x")


def test_compact_drops_indentation_and_blank_lines_only() -> None:
    assert compact("  <li>\n\n\t<b>Soup</b>  \r\n   \n</li>  ") == "<li>\n<b>Soup</b>\n</li>"
