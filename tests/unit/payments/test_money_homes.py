"""One home for each money rule: only the state machine writes an order's status, and the
paid-or-authorised rule and paid-session confirmation are defined once (the webhook,
reconciliation and the admin fixes import them)."""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[3] / "app"
# A Piccolo update of the column, or an SQL `UPDATE paid_order SET … status =` before its
# WHERE (a status written in the same statement's SET list).
STATUS_WRITE = re.compile(r"PaidOrder\.status\s*:|UPDATE\s+paid_order\s+SET\s(?:(?!WHERE)[^;])*?"
                          r"(?<![a-z_.])status\s*=", re.IGNORECASE | re.DOTALL)


def sources() -> dict[str, str]:
    return {str(path.relative_to(APP.parent)): path.read_text()
            for path in APP.rglob("*.py")}


def test_only_the_state_machine_writes_an_orders_status() -> None:
    # app/bench is the benchmark's load generator (it completes orders to keep the board
    # the size of a kitchen that keeps up), not the product.
    writers = sorted(name for name, text in sources().items() if STATUS_WRITE.search(text)
                     and not name.startswith("app/bench/"))
    assert writers == ["app/orders/lifecycle.py"]


def test_each_money_rule_is_defined_once() -> None:
    for definition in ("async def confirm_paid_session(", "async def paid_or_authorised(",
                       "async def capture(", "async def give_back(", "async def refund(order"):
        homes = [name for name, text in sources().items() if definition in text]
        assert len(homes) == 1, (definition, homes)
    callers = [name for name, text in sources().items() if "confirm_paid_session(" in text]
    assert {"app/payments/webhooks.py", "app/payments/reconciliation_fixes.py",
            "app/ops/discrepancies.py"} <= set(callers)
