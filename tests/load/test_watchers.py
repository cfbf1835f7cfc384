"""The bench's watchers tell a frame at the right screen from one at the wrong screen: without
that, "zero misdelivered" in the platform section could not fail."""

from __future__ import annotations

import asyncio
from typing import Any

from app.bench.screens import _Board, _Stream, kitchen_watcher, order_keys, status_watcher

A, B = "TEMP-" + "a" * 22, "TEMP-" + "b" * 22  # an order of restaurant one, one of two


class _Pipe:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: Any) -> None:
        self.sent.append(message)


async def test_frames_are_counted_where_they_belong_and_flagged_elsewhere() -> None:
    pipe = _Pipe()
    one, two = kitchen_watcher("one", ""), kitchen_watcher("two", "")
    page_a = status_watcher(A)
    orders = {A: order_keys("one", A), B: order_keys("two", B)}
    board = _Board([one, two, page_a], orders, pipe)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    streams = [_Stream(board, watcher, b"", loop.create_future())
               for watcher in (one, two, page_a)]
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n"
    streams[0].data_received(head + f"event: tickets\ndata: <li id={A}>\n\n".encode())
    # Restaurant two's screen is sent restaurant one's ticket: misdelivered.
    streams[1].data_received(head + f"data: <li id={A}> <li id={B}>\n\n".encode())
    # The page's snapshot names its order before payment: not yet a frame of the payment.
    streams[2].data_received(head + f'data: {{"id":"{A}","status":"awaiting_payment"}}\n\n'
                             .encode())
    assert [message[1] for message in pipe.sent] == [B]  # A waits for its page
    streams[2].data_received(f'data: {{"id":"{A}","status":"paid"}}\n\n'.encode())
    assert board.misdelivered == 1 and board.misdelivered_examples == [f"{A} on r:two"]
    seen = {message[1]: message[2] for message in pipe.sent}
    assert set(seen) == {A, B}  # A: its screen and its page; B: its one screen
    assert [is_status for _at, is_status in seen[A]] == [False, True]
