"""Admin pages (`/admin…`, admins only): discrepancy queue and fixes, webhook inbox and
replay, email log, restaurants and menus, the live system page, analytics and CSV. Thin:
parse, call a service, render a page or (for htmx) a component. One controller per file."""

from __future__ import annotations

from app.admin.analytics_controller import AdminAnalyticsController
from app.admin.discrepancy_controller import AdminDiscrepancyController
from app.admin.inbox_controller import AdminInboxController
from app.admin.orders_controller import AdminOrdersController
from app.admin.restaurant_controller import AdminRestaurantController
from app.admin.system_controller import AdminSystemController

ADMIN_CONTROLLERS = [AdminDiscrepancyController, AdminInboxController,
                     AdminRestaurantController, AdminSystemController,
                     AdminAnalyticsController, AdminOrdersController]
