"""Shared helpers for admin controllers: page context, form reading, and the
analytics charts built from a report (rendering only; numbers come from app.ops.analytics)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from app.accounts.guards import staff_of
from app.admin import charts
from app.infra.html import csrf_of
from app.notifications.service import EMAIL_KINDS
from app.ops.analytics import WEEKDAYS, Report
from app.templating import format_money

KINDS = sorted(EMAIL_KINDS)  # the email kinds an admin may send again


def page_context(request: Request[Any, Any, Any], section: str, **context: Any) -> dict[str, Any]:
    return {"csrf": csrf_of(request), "staff": staff_of(request), "section": section, **context}


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {str(key): str(value) for key, value in form.items() if isinstance(value, str)}


def analytics_charts(report: Report) -> list[charts.Chart]:
    labels = [day.day.strftime("%d %b") for day in report.days]
    per_day = report.days
    currency = report.currency or "eur"

    def money(amount: float) -> str:
        return format_money(int(amount), currency)

    def money_axis(amount: float) -> str:  # whole units on the axis: "€120"
        return money(amount).rsplit(".", 1)[0] if amount >= 100 else money(amount)

    revenue = charts.bar_chart(
        "revenue", f"Revenue by day ({currency.upper()})",
        "Paid orders not rejected or refunded, per day (UTC).", labels,
        [day.revenue for day in per_day], money, x_label="day", y_label=currency.upper(),
        axis_fmt=money_axis, min_step=100)  # gridlines on whole currency units
    rates = _rate_charts(report, labels)
    return [revenue, *rates] if report.currency else rates


def _rate_charts(report: Report, labels: list[str]) -> list[charts.Chart]:
    per_day = report.days
    return [
        charts.line_chart("conversion", "Payment conversion by day",
                          "Paid orders as a share of submitted orders, per day (UTC).",
                          labels, [day.conversion for day in per_day], charts.percent, top=1,
                          x_label="day", y_label="%"),
        charts.bar_chart("paid", "Paid orders by day", "Orders paid per day (UTC).",
                         labels, [day.paid for day in per_day], charts.count, x_label="day",
                         y_label="orders"),
        charts.line_chart("expiry", "Link expiry rate by day",
                          "Expired payment links as a share of links created, per day.",
                          labels, [day.expiry_rate for day in per_day], charts.percent, top=1,
                          x_label="day", y_label="%"),
        charts.bar_chart("submit-to-pay", "Submission to payment, median",
                         "Median seconds from order submission to payment, per day.",
                         labels, [day.submit_to_pay_p50 for day in per_day], charts.duration,
                         x_label="day", y_label="time"),
        charts.bar_chart("pay-to-kitchen", "Payment to kitchen, median",
                         "Median time from payment to the order showing in the kitchen.",
                         labels, [day.pay_to_kitchen_p50 for day in per_day], charts.duration,
                         x_label="day", y_label="time"),
        charts.bar_chart("prep", "Prep time, median",
                         "Median time from accept to ready, per day.",
                         labels, [day.prep_p50 for day in per_day], charts.duration,
                         x_label="day", y_label="time"),
        charts.bar_chart("hours", "Busiest hours",
                         "Paid orders by hour of day, in each restaurant's local time.",
                         [f"{hour:02d}" for hour in range(24)], report.hours, charts.count,
                         x_label="hour", y_label="orders"),
        charts.bar_chart("weekdays", "Busiest weekdays",
                         "Paid orders by weekday, in each restaurant's local time.",
                         list(WEEKDAYS), report.weekdays, charts.count, y_label="orders"),
    ]
