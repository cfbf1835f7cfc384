"""The live order feed: order events over Redis pub/sub (`feed`), fanned out once per process
and burst to every SSE stream that follows a channel (`hub`, `sse`), with snapshot renders
shared between streams (`shared_render`). Used by the kitchen board and the customer's
status page; it knows channels and streams, not what a screen shows."""
