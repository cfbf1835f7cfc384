"""The kitchen board read in ONE Postgres round trip: the tickets (each with its lines), how
many are new, the "all day" counts, the ticket to recall, the notices (auto-rejects, whole
refunds of tickets on the board, tickets a closure cancelled, items refunded of a ticket the
kitchen was making: `order_refund.kitchen_notice`) not yet acknowledged and the
items and options the kitchen has marked sold out (named on the board, and marked on the
tickets' lines that hold them: `services._card`) and the booked orders not on the board yet,
each with its dishes ("Scheduled").

It runs once per burst of order events for every screen of a restaurant in a web process,
on the path from payment to screen; as separate ORM queries it was six round trips, each
waiting its turn on a busy event loop. The SQL is static; only values are parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.infra.db import fetch
from app.orders.reject_reasons import CLOSED, HOLD_LAPSED
from app.orders.release import RELEASE_LEAD_MINUTES
from app.orders.views import modifiers_of, refunded_units

_TICKET_COLUMNS = (
    "o.public_id, o.ticket_number, o.status, o.fulfillment, o.customer_name, "
    "o.customer_phone, o.table_label, o.delivery_address, o.notes, o.total_amount, "
    "o.currency, o.paid_at, o.promised_at, o.prep_minutes, o.needs_review, o.review_reason, "
    "o.reject_reason, o.allergy, o.capture_mode, o.tip_amount, o.scheduled_for, o.released_at, "
    "o.amount_refunded, o.alarm_acknowledged_at IS NOT NULL AS alarm_acknowledged")
# A scheduled order is not on the board (nor counted as new or to cook) until released.
_ON_BOARD = "(o.scheduled_for IS NULL OR o.released_at IS NOT NULL)"

_SQL = """
WITH tickets AS (
  SELECT {columns}, coalesce((
      SELECT json_agg(json_build_object('id', i.id, 'name', i.name, 'quantity', i.quantity,
                                        'notes', i.notes, 'allergy', i.allergy,
                                        'modifiers', i.modifiers, 'menu_item', i.menu_item,
                                        'allergens', m.allergens)
                      ORDER BY i.id)
      -- the dish's allergens for the ticket's allergy check: an order line does not keep
      -- them, so the dish's as it is now (its options' are frozen in i.modifiers)
      FROM order_item i LEFT JOIN menu_item m ON m.id = i.menu_item
      WHERE i.paid_order = o.id), '[]'::json) AS lines,
    -- refunds only where there are any: most tickets skip the lookup; with the dishes of
    -- refunds the customer's bank returned, which stay not to be made
    CASE WHEN o.amount_refunded > 0 OR o.returned_lines <> '[]' THEN (
      SELECT json_agg(r.lines) FROM (
        SELECT f.lines FROM order_refund f WHERE f.paid_order = o.id
        UNION ALL SELECT jsonb_array_elements(o.returned_lines)) r)
    END AS refunds
  FROM paid_order o
  WHERE o.restaurant = $1 AND {which}
)
SELECT
  (SELECT coalesce(json_agg(row_to_json(t)), '[]'::json) FROM tickets t) AS tickets,
  (SELECT count(*) FROM paid_order o
     WHERE o.restaurant = $1 AND o.status = 'paid' AND {on_board})::int AS new_count,
  (SELECT coalesce(json_agg(json_build_array(name, options, n)), '[]'::json) FROM (
     -- what is left to make: the units of a line refunded (an owner's refund of items) are
     -- not (the ticket says "do not make"); looked up only for orders with a refund. Per
     -- dish and combination of options (their names in the line's order, one function of
     -- the line, no subquery): cooks make a pizza with olives, not a pizza
     SELECT i.name, jsonb_path_query_array(i.modifiers, '$[*].name') AS options,
            sum(greatest(i.quantity - coalesce(r.units, 0), 0))::int AS n
     FROM paid_order o
     JOIN order_item i ON i.paid_order = o.id
     LEFT JOIN LATERAL (
       SELECT sum((l->>'quantity')::int) AS units
       FROM (SELECT f.lines FROM order_refund f
             WHERE o.amount_refunded > 0 AND f.paid_order = o.id
             UNION ALL SELECT jsonb_array_elements(o.returned_lines)) f,
            jsonb_array_elements(f.lines) l
       WHERE jsonb_typeof(l->'item') = 'number' AND (l->>'item')::bigint = i.id) r ON true
     WHERE o.restaurant = $1 AND o.status = ANY($3::text[]) AND {on_board}
     GROUP BY 1, 2
     HAVING sum(greatest(i.quantity - coalesce(r.units, 0), 0)) > 0) counts
  ) AS all_day,
  (SELECT coalesce(json_agg(row_to_json(s) ORDER BY s.scheduled_for, s.ticket_number),
                   '[]'::json) FROM (
     SELECT public_id AS ref, ticket_number, scheduled_for, fulfillment, customer_name,
            prep_minutes, o.notes,
            -- its allergies, flagged in "Scheduled" as on its ticket: the order's, then each
            -- line's with its dish ("nuts (Burrata)"); the few booked orders only
            array_remove(ARRAY[nullif(o.allergy, '')], NULL) || ARRAY(
              SELECT i.allergy || ' (' || i.name || ')' FROM order_item i
              WHERE i.paid_order = o.id AND i.allergy <> '' ORDER BY i.id) AS allergies,
            -- its dishes, so the cook can plan what is coming (not only when), with the
            -- units refunded of them (as on a ticket: not to be made); in this one statement,
            -- not a query per booked order
            (SELECT json_agg(json_build_object('id', i.id, 'name', i.name,
                                               'quantity', i.quantity, 'notes', i.notes,
                                               'modifiers', i.modifiers) ORDER BY i.id)
             FROM order_item i WHERE i.paid_order = o.id) AS lines,
            CASE WHEN o.amount_refunded > 0 OR o.returned_lines <> '[]' THEN (
              SELECT json_agg(r.lines) FROM (
                SELECT f.lines FROM order_refund f WHERE f.paid_order = o.id
                UNION ALL SELECT jsonb_array_elements(o.returned_lines)) r)
            END AS refunds
     FROM paid_order o
     WHERE o.restaurant = $1 AND o.scheduled_for IS NOT NULL AND o.released_at IS NULL
       AND o.status = 'paid') s
  ) AS scheduled,
  (SELECT row_to_json(r) FROM (
     SELECT public_id AS ref, ticket_number FROM paid_order
     WHERE restaurant = $1 AND status = 'completed' AND completed_at >= $4
     ORDER BY completed_at DESC LIMIT 1) r
  ) AS recall,
  -- a notice marked for a ticket on the board that was also rejected: a closure's (its
  -- rejection, app/manage/hours.py), told from when it was rejected, its refund pending too
  -- tickets a cook had accepted (may be cooking) first, then the newest (a fresh one was
  -- buried at the end of the count): past the few shown in full, the rest are only counted
  (SELECT coalesce(json_agg(row_to_json(n) ORDER BY n.cooking DESC, n.at DESC), '[]'::json) FROM (
     SELECT public_id AS ref, ticket_number, accepted_at IS NOT NULL AS cooking,
            CASE WHEN auto_rejected OR (refund_notice AND rejected_at IS NOT NULL)
                 THEN rejected_at ELSE coalesce(refunded_at, voided_at, disputed_at)
            END AS at, status, total_amount, amount_refunded, currency,
            status = 'voided' AS voided,
            needs_review, NOT auto_rejected AS refunded, coalesce(reject_reason, '') AS reason,
            ready_at IS NOT NULL AS was_ready,
            (refund_notice AND rejected_at IS NOT NULL AND NOT auto_rejected) AS closed,
            (refund_notice AND disputed_at IS NOT NULL AND refunded_at IS NULL
             AND voided_at IS NULL AND rejected_at IS NULL) AS disputed,
            NULL::json AS items
     FROM paid_order
     WHERE restaurant = $1 AND notice_acknowledged_at IS NULL
       AND ((auto_rejected AND rejected_at > now() - interval '1 day')
            OR (refund_notice AND coalesce(refunded_at, voided_at, rejected_at, disputed_at)
                > now() - interval '1 day'))
     UNION ALL
     -- items refunded of a ticket the kitchen had in hand (accepted or cooking): one notice
     -- per ticket naming them, until acknowledged; the order's own notice (refunded in
     -- full, rejected, charged back) takes its place. Read through the partial index of
     -- the refunds not acknowledged, never per ticket; the tickets are marked from these
     -- (`services._card`).
     SELECT o.public_id, o.ticket_number, true, max(f.created_at), o.status,
            sum(f.amount)::int, o.amount_refunded, o.currency, false, o.needs_review, true,
            '', o.ready_at IS NOT NULL, false, false, json_agg(f.lines ORDER BY f.id)
     FROM order_refund f JOIN paid_order o ON o.id = f.paid_order
     WHERE {unseen_refund} AND o.restaurant = $1
       AND NOT (o.refund_notice OR o.auto_rejected)
     GROUP BY o.id
     ) n
  ) AS notices,
  (SELECT coalesce(json_agg(json_build_array(m.id, m.name) ORDER BY m.position, m.id),
                   '[]'::json) FROM menu_item m
     WHERE m.restaurant = $1 AND NOT m.available) AS sold_out,
  -- the options 86'd (out of olives, not of pizza): the tickets' lines holding one are marked
  (SELECT coalesce(json_agg(json_build_array(o.id, o.name || ' (' || m.name || ')')
                            ORDER BY m.position, m.id, g.position, o.position, o.id),
                   '[]'::json) FROM menu_item m
     JOIN modifier_group g ON g.menu_item = m.id
     JOIN modifier_option o ON o.modifier_group = g.id
     WHERE m.restaurant = $1 AND NOT o.available) AS sold_out_options
"""
# A refund of items the kitchen is to be told of and has not acknowledged (within the
# notices' day): the condition of the partial index `order_refund_kitchen_notice_idx`.
_UNSEEN_REFUND = ("f.kitchen_notice AND f.notice_acknowledged_at IS NULL "
                  "AND f.created_at > now() - interval '1 day'")
# Which tickets: the whole board (by status), or the ones a burst of events named (by ref).
BY_STATUS = _SQL.format(columns=_TICKET_COLUMNS, on_board=_ON_BOARD,
                        unseen_refund=_UNSEEN_REFUND,
                        which=f"o.status = ANY($2::text[]) AND {_ON_BOARD}")
BY_REF = _SQL.format(columns=_TICKET_COLUMNS, on_board=_ON_BOARD,
                     unseen_refund=_UNSEEN_REFUND, which="o.public_id = ANY($2::text[])")


@dataclass(frozen=True)
class Recall:
    ref: str
    ticket_number: int


@dataclass(frozen=True)
class Notice:
    """An order the timer rejected, one refunded in full while on the board (admin,
    Stripe's dashboard), one on the board a closure cancelled (rejected, or refunded in
    full when ready), one on the board a chargeback took the money of, or items refunded of
    a ticket the kitchen had in hand (`items`), that no cook has acknowledged yet."""

    ref: str
    ticket_number: int
    at: datetime  # when it was rejected (or, for `refunded`, refunded)
    status: str  # refunded, or still rejected while the refund is retried
    total_amount: int
    currency: str
    voided: bool  # an authorisation released rather than a charge refunded
    needs_review: bool
    refunded: bool = False  # refunded by the restaurant, not rejected by the timer
    reason: str = ""  # the reject reason stored with it (the timer's minutes as they were)
    closed: bool = False  # cancelled by a closure the owner added (`reason` is its reason)
    disputed: bool = False  # a chargeback took the money back (the cardholder's bank)
    cooking: bool = False  # a cook had accepted it: listed before the others
    amount_refunded: int = 0  # refunded before (a chargeback takes only what was left)
    was_ready: bool = False  # made already, waiting to be handed over
    # Items refunded of a ticket being made (one array of refund lines per refund not
    # acknowledged: {"item", "name", "quantity", ...}); None for a notice about the order.
    # `total_amount` is then what those refunds gave back.
    items: list[Any] | None = None

    @property
    def item_refund(self) -> bool:
        return self.items is not None

    @property
    def refunded_items(self) -> list[tuple[int, str]]:
        """(units, dish) refunded, by dish in the refunds' order, several refunds summed."""
        units: dict[str, int] = {}
        for lines in self.items or []:
            for line in lines if isinstance(lines, list) else []:
                if isinstance(line, dict) and line.get("name"):
                    name = str(line["name"])
                    units[name] = units.get(name, 0) + int(line.get("quantity") or 0)
        return [(count, name) for name, count in units.items() if count > 0]

    @property
    def items_label(self) -> str:
        """"1x Tiramisu, 2x Burger" (with the multiplication sign)."""
        return ", ".join(f"{count}\N{MULTIPLICATION SIGN} {name}"
                         for count, name in self.refunded_items)

    @property
    def units(self) -> int:
        return sum(count for count, _name in self.refunded_items)

    @property
    def what_not_to_do(self) -> str:
        """"do not make it" (one unit), "… them", or for a ticket made since "do not hand
        it over" / "… them"."""
        it = "it" if self.units == 1 else "them"
        return f"do not hand {it} over" if self.was_ready else f"do not make {it}"

    @property
    def stop(self) -> str:
        """What the kitchen does about it now: a ticket made already is not handed over, one
        a cook accepted is stopped, one nobody accepted is not started."""
        if self.was_ready:
            return "it is ready, do not hand it over"
        return "stop preparing it" if self.cooking else "do not cook it"

    @property
    def taken_back(self) -> int:
        """What a chargeback took: the charge less what the restaurant had refunded."""
        return self.total_amount - self.amount_refunded

    @property
    def dispute_won(self) -> bool:
        """The bank decided for the restaurant (within the notice's day): the money is back,
        the ticket stays off the board (`lifecycle.status_after_won_dispute`)."""
        return self.disputed and self.status not in ("disputed", "charged_back")

    @property
    def closure_reason(self) -> str:
        """The owner's reason for the closure ("" when they gave none: the system's
        `CLOSED`, which the notice says anyway)."""
        return "" if self.reason == CLOSED else self.reason

    @property
    def hold_lapsed(self) -> bool:
        """Rejected because Stripe canceled its card hold (never to be charged), not by the
        timer."""
        return self.reason == HOLD_LAPSED


NOTE_CHARS = 40  # a dish's note in "Scheduled", cut short: its ticket shows it whole
ORDER_NOTE_CHARS = 60  # the order's own note there: what a booked table is planned around


@dataclass(frozen=True)
class Dish:
    """One line of a booked order as "Scheduled" lists it: the units left to make (an owner's
    refund of some taken off, as on the ticket), its options' names and the diner's note."""

    name: str
    quantity: int
    options: tuple[str, ...] = ()
    notes: str = ""

    @property
    def label(self) -> str:
        """"Margherita pizza (Large + Extra cheese)" (its quantity goes before, in bold): the
        options worded as "all day" words them, beside it in the same column."""
        return f"{self.name} ({' + '.join(self.options)})" if self.options else self.name

    @property
    def short_note(self) -> str:
        return shortened(self.notes, NOTE_CHARS)


def shortened(text: str, limit: int) -> str:
    """`text` on one line, cut at a word with "…" past `limit` characters (a word longer
    than that is cut inside)."""
    note = " ".join(text.split())
    if len(note) <= limit:
        return note
    cut = note[:limit - 1]
    head = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return head.rstrip(" ,;:.-") + "\N{HORIZONTAL ELLIPSIS}"


def _dishes(lines: list[dict[str, Any]] | None, refunds: list[Any] | None
            ) -> tuple[Dish, ...]:
    """A booked order's lines (the query's `lines`, `refunds`) as dishes, those refunded
    whole left out."""
    refunded = refunded_units(refunds or [])
    dishes = []
    for line in lines or []:
        left = line["quantity"] - min(line["quantity"], refunded.get(line["id"], 0))
        if left > 0:
            dishes.append(Dish(line["name"], left, tuple(
                modifier.name for modifier in modifiers_of(line.get("modifiers"))),
                line.get("notes") or ""))
    return tuple(dishes)


@dataclass(frozen=True)
class Upcoming:
    """A paid scheduled order not on the board yet ("Scheduled" on the kitchen screen)."""

    ref: str
    ticket_number: int
    scheduled_for: datetime
    fulfillment: str
    customer_name: str
    prep_minutes: int | None
    # the diner's allergy flags: the order's, then each line's with its dish ("nuts (Burrata)")
    allergies: tuple[str, ...] = ()
    dishes: tuple[Dish, ...] = ()  # what the kitchen will make, in the order's line order
    notes: str = ""  # the order's own note ("birthday: candles at 20:30")

    @property
    def short_note(self) -> str:
        return shortened(self.notes, ORDER_NOTE_CHARS)

    @property
    def release_at(self) -> datetime:
        """When the release sweep puts it on the board (app/orders/release.py)."""
        return self.scheduled_for - timedelta(minutes=(self.prep_minutes or 0)
                                              + RELEASE_LEAD_MINUTES)

    @property
    def allergy_label(self) -> str:
        """"Allergy: nuts; sesame (Burrata)" ("" for none): the entry's flag, in words."""
        return "Allergy: " + "; ".join(self.allergies) if self.allergies else ""


@dataclass(frozen=True)
class BoardRows:
    tickets: list[dict[str, Any]]  # column → value, timestamps as datetimes, plus `lines`
    new_count: int
    # (dish, its options' names, units to make) per dish and combination of options
    all_day: list[tuple[str, tuple[str, ...], int]]
    recall: Recall | None
    notices: list[Notice]
    sold_out: dict[int, str]  # the menu items the kitchen has 86'd: id → name, menu order
    # the modifier options it has 86'd: id → "Olives (Pizza your way)", in menu order
    sold_out_options: dict[int, str]
    scheduled: list[Upcoming]


_TIMES = ("paid_at", "promised_at", "scheduled_for", "released_at")


def _ticket(raw: dict[str, Any]) -> dict[str, Any]:
    for name in _TIMES:
        if raw[name] is not None:
            raw[name] = datetime.fromisoformat(raw[name])
    return raw


async def read_board(restaurant_id: int, *, statuses: list[str] | None = None,
                     refs: list[str] | None = None, to_cook: list[str],
                     recall_since: datetime) -> BoardRows:
    """Tickets of the restaurant with one of `statuses`, or named in `refs` (any status)."""
    sql, which = (BY_REF, refs) if refs is not None else (BY_STATUS, statuses or [])
    rows = await fetch(sql, restaurant_id, which, to_cook, recall_since)
    row = rows[0]
    recall = json.loads(row["recall"]) if row["recall"] else None
    return BoardRows(
        tickets=[_ticket(raw) for raw in json.loads(row["tickets"])],
        new_count=row["new_count"],
        all_day=[(name, tuple(options or ()), count)
                 for name, options, count in json.loads(row["all_day"])],
        recall=Recall(recall["ref"], recall["ticket_number"]) if recall else None,
        notices=[Notice(**{**raw, "at": datetime.fromisoformat(raw["at"])})
                 for raw in json.loads(row["notices"])],
        sold_out={item_id: name for item_id, name in json.loads(row["sold_out"])},
        sold_out_options={option_id: label
                          for option_id, label in json.loads(row["sold_out_options"])},
        scheduled=[_upcoming(raw) for raw in json.loads(row["scheduled"])])


def _upcoming(raw: dict[str, Any]) -> Upcoming:
    dishes = _dishes(raw.pop("lines", None), raw.pop("refunds", None))
    return Upcoming(**{**raw, "scheduled_for": datetime.fromisoformat(raw["scheduled_for"]),
                       "allergies": tuple(raw.get("allergies") or ()), "dishes": dishes})
