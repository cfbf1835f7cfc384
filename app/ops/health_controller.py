"""GET /healthz (process alive) and GET /readyz (Postgres, Redis, the live feed; and when a
worker was last seen, which does not make it fail)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.channels import ChannelsPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from app.live.feed import feed_state
from app.ops.health import readiness


class HealthController(Controller):
    include_in_schema = True
    tags = ["ops"]

    @get("/healthz", sync_to_thread=False, cache_control=None)
    def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", responses={503: ResponseSpec(
        data_container=dict[str, Any], generate_examples=False,
        description="Not ready: Postgres, Redis or the live feed is down")})
    async def readyz(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        feed = feed_state(request.app.plugins.get(ChannelsPlugin))
        result = await readiness(request.app.state.redis, feed)
        status = "ok" if result.ok else "unavailable"
        # the worker is said, not checked: a dead worker must not pull this web process
        return Response(
            {"status": status, "checks": result.checks, **result.worker},
            status_code=HTTP_200_OK if result.ok else HTTP_503_SERVICE_UNAVAILABLE,
        )
