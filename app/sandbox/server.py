"""Builds and runs the sandbox ASGI app (`create_sandbox_app`, `run_sandbox`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app.sandbox.config import SandboxConfig
from app.sandbox.control import control_router
from app.sandbox.pages import pages_router
from app.sandbox.resend.routes import resend_router
from app.sandbox.state import STATE_KEY, SandboxState
from app.sandbox.stripe.routes import stripe_router, unrecognized_url

__all__ = ["SandboxConfig", "create_sandbox_app", "run_sandbox"]

TEMPLATES = Path(__file__).with_name("templates")


def _not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    if request.url.path.startswith("/v1/"):
        return unrecognized_url(request.method, request.url.path)
    return Response(content={"detail": exc.detail}, status_code=404)


def create_sandbox_app(config: SandboxConfig) -> Litestar:
    """The sandbox as its own Litestar app; background loops start and stop with it."""
    state = SandboxState(config)
    return Litestar(
        route_handlers=[stripe_router, resend_router, control_router, pages_router],
        on_startup=[state.start],
        on_shutdown=[state.stop],
        state=State({STATE_KEY: state}),
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        exception_handlers={NotFoundException: _not_found},
        openapi_config=None,
    )


def run_sandbox(config: SandboxConfig, host: str = "127.0.0.1", port: int = 12111) -> None:
    """Serve the sandbox with uvicorn until interrupted (blocking)."""
    uvicorn.run(
        create_sandbox_app(config),
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
