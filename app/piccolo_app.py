"""Registers Orderpass's tables and its top-level `migrations/` folder with Piccolo."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.accounts.tables import PasswordReset, StaffInvitation, StaffUser
from app.notifications.tables import EmailMessage
from app.orders.tables import ArchivedOrder, OrderItem, OrderRefund, PaidOrder
from app.payments.tables import Discrepancy, StripeEvent
from app.platform.tables import FunnelDaily, Outbox, WebhookDelivery
from app.restaurants.tables import (
    MenuCategory,
    MenuItem,
    MenuPhoto,
    ModifierGroup,
    ModifierOption,
    Restaurant,
    RestaurantClosure,
)

APP_CONFIG = AppConfig(
    app_name="orderpass",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations"),
    table_classes=[
        Restaurant, MenuItem, StaffUser, PaidOrder, OrderItem, OrderRefund, ArchivedOrder,
        StripeEvent,
        WebhookDelivery, Discrepancy, Outbox, EmailMessage, FunnelDaily,
        StaffInvitation, PasswordReset, RestaurantClosure, MenuCategory, MenuPhoto,
        ModifierGroup, ModifierOption,
    ],
)
