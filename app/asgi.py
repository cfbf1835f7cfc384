"""The web application: `create_app()` wires controllers, templates, static files, lifespan."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response
from litestar.exceptions import InternalServerException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from redis.asyncio import Redis

from app import outbox_consumers, paths
from app.accounts import security
from app.accounts.controller import AuthController
from app.accounts.form_guard import form_guard_middleware
from app.accounts.invitation_controller import InvitationController
from app.accounts.password_reset_controller import PasswordResetController
from app.admin.controllers import ADMIN_CONTROLLERS
from app.infra import db, error_pages, i18n, unavailable
from app.infra.errors import log_exception, validation_error_handler
from app.infra.gc_tuning import freeze_startup_heap, paced_full_collections
from app.infra.http_head import head_as_get
from app.infra.i18n import language_middleware
from app.infra.input_guard import input_guard_middleware
from app.infra.logging import configure_logging, get_logger
from app.infra.redis import bounded_pool, connect_redis, shrink_pools_forever
from app.infra.request_id import request_id_middleware
from app.infra.security_headers import security_headers_middleware
from app.infra.urls import redis_url
from app.kitchen import board_feed
from app.kitchen.controller import KitchenController
from app.kitchen.floor_controller import KitchenFloorController, MenuEventsController
from app.live.feed import channels_plugin
from app.manage.go_live_controller import GoLiveController
from app.manage.home_controller import ManageHomeController
from app.manage.hours_controller import HoursController
from app.manage.menu_categories_controller import ManageMenuCategoriesController
from app.manage.menu_controller import ManageMenuController
from app.manage.orders_controller import ManageOrdersController
from app.manage.settings_controller import RestaurantSettingsController
from app.manage.staff_controller import StaffController
from app.notifications.webhook_controller import ResendWebhookController
from app.notifications.webhook_route import resend_webhook_route
from app.ops import alerts
from app.ops.health_controller import HealthController
from app.ops.metrics_controller import MetricsController
from app.ops.request_metrics import flush_webhook_counts, request_metrics_middleware
from app.orders.api_controller import OrdersApiController
from app.orders.events_controller import OrderEventsController
from app.orders.pages import OrderPagesController
from app.payments.stripe_gateway import close_gateway
from app.payments.webhook_controller import StripeWebhookController
from app.payments.webhook_route import stripe_webhook_route
from app.restaurants.controllers import MenuApiController, RestaurantPagesController
from app.restaurants.photo_controller import MenuPhotoController
from app.settings import get_settings
from app.templating import precompile, template_engine

log = get_logger("orderpass.web")


def static_not_found(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A file path the OS refuses (a NUL byte: "embedded null byte"; a name too long, which
    Litestar wraps in a 500) is no file: 404, not 500."""
    cause = error.__cause__ or error.__context__
    if isinstance(error, InternalServerException) and not (
            isinstance(cause, OSError) and cause.errno in _NO_SUCH_FILE):
        return Response({"status_code": 500, "detail": "Internal Server Error"},
                        status_code=500)
    return Response({"status_code": 404, "detail": "Not Found"}, status_code=404)


_NO_SUCH_FILE = {errno.ENAMETOOLONG, errno.ENOENT, errno.ENOTDIR, errno.EINVAL, errno.ELOOP}


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    opened_pool = await db.open_pool()
    app.state.redis = await connect_redis()
    shrinking = asyncio.create_task(shrink_pools_forever())
    watch_s = get_settings().alerts_watchdog_seconds
    watching = asyncio.create_task(alerts.watch_forever(app.state.redis, watch_s)) \
        if watch_s else None
    # The live frames' templates, compiled before the first order's fan-out needs them.
    precompile(board_feed.BOARD_TEMPLATE, board_feed.TICKETS_TEMPLATE)
    i18n.warm_up()  # and the prices on them
    freeze_startup_heap()
    log.info("web app started")
    try:
        async with paced_full_collections(get_settings().gc_thaw_minutes * 60):
            yield
    finally:
        shrinking.cancel()
        if watching is not None:
            watching.cancel()
        await close_gateway()
        await flush_webhook_counts()  # counted, not yet written
        await app.state.redis.aclose()
        if opened_pool:
            await db.close_pool()


def create_app() -> Litestar:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    outbox_consumers.load()
    # Sessions, the login rate limit and the live feed share one client (pub/sub opens its
    # own connection from its pool); it is created lazily, closed on shutdown.
    web_redis = Redis.from_pool(bounded_pool(redis_url(), "web", socket_connect_timeout=2))
    app = Litestar(
        route_handlers=[
            HealthController,
            MetricsController,
            RestaurantPagesController,
            MenuApiController,
            ResendWebhookController,
            OrdersApiController,
            OrderPagesController,
            StripeWebhookController,
            AuthController,
            KitchenController,
            OrderEventsController,
            *ADMIN_CONTROLLERS,
            InvitationController,
            PasswordResetController,
            ManageHomeController,
            GoLiveController,
            StaffController,
            RestaurantSettingsController,
            HoursController,
            ManageMenuController,
            ManageMenuCategoriesController,
            ManageOrdersController,
            MenuPhotoController,
            KitchenFloorController,
            MenuEventsController,
            create_static_files_router(path="/static", directories=[paths.STATIC],
                                       include_in_schema=False,
                                       exception_handlers={
                                           ValueError: static_not_found,
                                           InternalServerException: static_not_found}),
        ],
        lifespan=[lifespan],
        exception_handlers={ValidationException: validation_error_handler,
                            **error_pages.exception_handlers(),
                            **security.exception_handlers(), **unavailable.exception_handlers()},
        after_exception=[log_exception],
        on_shutdown=[web_redis.aclose],
        middleware=[security.session_config().middleware, form_guard_middleware],
        csrf_config=security.csrf_config(),
        stores=security.stores(web_redis),
        plugins=[channels_plugin(web_redis)],
        template_config=TemplateConfig(instance=template_engine()),
        openapi_config=OpenAPIConfig(title="Orderpass", version="0.1.0", path="/schema"),
        logging_config=None,  # structlog (app/infra/logging.py) formats every log line
        debug=False,
    )
    # Outside Litestar's own exception handling, so these see every answer as it is sent
    # (routing 404s, CSRF 403s, 413s, 429s, 500s): each gets an x-request-id and a log line
    # and is counted with its real status; NUL in a URL is refused before any route runs.
    # Outermost, CSP and friends on every response (routing errors included), and the
    # server's own send kept for the live streams' body writes (app.live.sse).
    # Stripe's and Resend's webhooks are answered inside those, ahead of Litestar
    # (app/payments/webhook_route.py, app/notifications/webhook_route.py).
    handler = request_id_middleware(input_guard_middleware(request_metrics_middleware(
        stripe_webhook_route(resend_webhook_route(head_as_get(language_middleware(
            app.asgi_handler, secure=settings.is_production)), app), app))))
    app.asgi_handler = security_headers_middleware(handler, production=settings.is_production)
    return app
