"""The order as a Checkout Session carries it, so a paid order can be rebuilt from Stripe if
Redis lost the temp order: line items give names, prices and quantities; metadata gives the
rest (menu ids, every note, customer and fulfilment details), in full.

Stripe allows 50 metadata keys of at most 40 characters, each value at most 500 characters.
The snapshot is written in a length-prefixed form (no escaping, so a note of quotes or
control characters costs what it is long) and cut into `snapshot_00`, `snapshot_01`, …
values of 500 characters. The largest order intake accepts (50 lines with 200-character
notes, every field at its limit, a tip and a VAT rate per line) takes about 28 keys; `encode`
refuses anything that would not fit rather than send Stripe a request it refuses
(tests/unit/payments/test_snapshot.py holds the bound).

Options chosen on a line (`m`, only when any line has some): per line a list of integers,
[len(item name), then per option: id, delta, len(group), len(name)]; the names are read back
out of the line item's name, which shows them to the diner on Stripe's page (`line_name`), so
they cost the snapshot a few digits each. An order whose snapshot would still not fit is refused at
intake (422), never paid unrebuildable.

Format: `s<len>:<text>` a string, `i<digits>;` an integer, `n` null, `l<count>:` a list,
`d<count>:` a dict (string keys), nested as needed.
"""

from __future__ import annotations

import json
from typing import Any

from app.orders.choices import label
from app.orders.models import LineModifier, OrderLine, TempOrder

MAX_KEYS = 50
MAX_KEY_CHARS = 40
MAX_VALUE_CHARS = 500
PREFIX = "snapshot_"
# Keys the session's metadata holds besides the snapshot parts.
OTHER_KEYS = ("temp_order_id", "restaurant")
MAX_PARTS = MAX_KEYS - len(OTHER_KEYS)
VERSION = 2


class SnapshotTooLarge(ValueError):
    """The order cannot be carried within Stripe's metadata limits."""


class SnapshotUnreadable(ValueError):
    """The session's metadata holds no snapshot we can read (missing, cut or corrupt)."""


# -- the length-prefixed form -------------------------------------------------------------

def _dump(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("n")
    elif isinstance(value, bool):
        out.append(f"i{int(value)};")
    elif isinstance(value, int):
        out.append(f"i{value};")
    elif isinstance(value, str):
        out.append(f"s{len(value)}:{value}")
    elif isinstance(value, list | tuple):
        out.append(f"l{len(value)}:")
        for item in value:
            _dump(item, out)
    elif isinstance(value, dict):
        out.append(f"d{len(value)}:")
        for key, item in value.items():
            _dump(str(key), out)
            _dump(item, out)
    else:
        raise TypeError(f"cannot snapshot {type(value).__name__}")


def dumps(value: Any) -> str:
    out: list[str] = []
    _dump(value, out)
    return "".join(out)


def _number(text: str, at: int, end: str) -> tuple[int, int]:
    stop = text.index(end, at)
    return int(text[at:stop]), stop + 1


def _load(text: str, at: int) -> tuple[Any, int]:
    tag = text[at]
    if tag == "n":
        return None, at + 1
    if tag == "i":
        return _number(text, at + 1, ";")
    count, at = _number(text, at + 1, ":")
    if tag == "s":
        if at + count > len(text):
            raise ValueError("string runs past the end")
        return text[at:at + count], at + count
    if tag == "l":
        items = []
        for _ in range(count):
            item, at = _load(text, at)
            items.append(item)
        return items, at
    if tag == "d":
        found: dict[str, Any] = {}
        for _ in range(count):
            key, at = _load(text, at)
            found[str(key)], at = _load(text, at)
        return found, at
    raise ValueError(f"unknown tag {tag!r}")


def loads(text: str) -> Any:
    try:
        value, end = _load(text, 0)
    except (ValueError, IndexError) as error:
        raise SnapshotUnreadable(f"snapshot cannot be read: {error}") from None
    if end != len(text):
        raise SnapshotUnreadable("snapshot has trailing data")
    return value


# -- the order ----------------------------------------------------------------------------

def snapshot_of(order: TempOrder) -> dict[str, Any]:
    """What a rebuild needs that the line items do not carry."""
    return {
        "v": VERSION, "f": order.fulfillment, "n": order.customer.name,
        "p": order.customer.phone, "a": order.delivery_address, "t": order.table_label,
        "o": order.notes, "c": int(order.created_at.timestamp()),
        "i": [[line.menu_item_id, line.quantity, line.notes] for line in order.lines],
        # Allergy flags: the order's and each line's (`y`), only when there are any.
        **({"y": [order.allergy, [line.allergy for line in order.lines]]}
           if order.allergy or any(line.allergy for line in order.lines) else {}),
        # VAT and tip (`x`): [tip, tax mode, [each line's rate]], when there is any.
        **({"x": [order.tip_amount, order.tax_mode, [line.tax_rate for line in order.lines]]}
           if order.tip_amount or order.tax_mode != "included"
           or any(line.tax_rate for line in order.lines) else {}),
        # The language of the order's emails (`l`), when it is not English.
        **({"l": order.language} if order.language != "en" else {}),
        # A scheduled order (`w`): [the slot, epoch seconds; the prep minutes it was given].
        **({"w": [int(order.scheduled_for.timestamp()), order.prep_minutes]}
           if order.scheduled_for is not None else {}),
        # Options (`m`): per line [] or [len(item name), then per option its id, delta,
        # len(group) and len(name)]; the names are in the line item's name.
        **({"m": [_shape(line) for line in order.lines]}
           if any(line.modifiers for line in order.lines) else {}),
    }


def _shape(line: OrderLine) -> list[int]:
    if not line.modifiers:
        return []
    shape = [len(line.name)]
    for modifier in line.modifiers:
        shape += [modifier.option or 0, modifier.delta, len(modifier.group), len(modifier.name)]
    return shape


def line_name(line: OrderLine) -> str:
    """The line item's name at Stripe: "Pizza (Size: L; Extras: Cheese, Olives)"."""
    return f"{line.name} ({label(line.modifiers)})" if line.modifiers else line.name


def split_line_name(name: str, shape: Any) -> tuple[str, list[LineModifier]] | None:
    """(the item's name, its options) out of a line item's name and the snapshot's shape of
    that line (`m`: [len(item name), then per option: id, delta, len(group), len(name)]), or
    None when they do not describe that name exactly."""
    if not isinstance(shape, list) or len(shape) < 5 or (len(shape) - 1) % 4:
        return None
    try:
        numbers = [int(value) for value in shape]
        at = numbers[0]
        base, options = name[:at], list[LineModifier]()
        for index in range(1, len(numbers), 4):
            option, delta, group_len, name_len = numbers[index:index + 4]
            previous = options[-1].group if options else None
            if previous is not None and name[at:at + 2] == ", " and group_len == len(previous):
                group, at = previous, at + 2  # a further option of the same group
            else:
                group = name[at + 2:at + 2 + group_len]
                at += 2 + group_len + 2  # " (" or "; ", the group, ": "
            options.append(LineModifier(group=group, name=name[at:at + name_len], delta=delta,
                                        option=option if option > 0 else None))
            at += name_len
    except (TypeError, ValueError):
        return None
    candidate = OrderLine(menu_item_id=None, name=base, unit_amount=0, quantity=1,
                          modifiers=options)
    return (base, options) if line_name(candidate) == name else None


def encode(order: TempOrder) -> dict[str, str]:
    """The metadata keys that carry the order's snapshot (`snapshot_00`, …)."""
    text = dumps(snapshot_of(order))
    parts = [text[at:at + MAX_VALUE_CHARS] for at in range(0, len(text), MAX_VALUE_CHARS)]
    if len(parts) > MAX_PARTS:
        raise SnapshotTooLarge(f"order {order.id}: snapshot of {len(text)} characters needs "
                               f"{len(parts)} metadata keys, Stripe allows {MAX_PARTS} more")
    return {f"{PREFIX}{index:02d}": part for index, part in enumerate(parts)}


def decode(metadata: dict[str, str]) -> dict[str, Any]:
    """The snapshot a session's metadata carries. Sessions created before the snapshot was
    split carry one JSON value under `snapshot` (possibly shortened to fit 500 characters)."""
    if f"{PREFIX}00" not in metadata:
        legacy = metadata.get("snapshot")
        if not legacy:
            raise SnapshotUnreadable("the session carries no snapshot")
        try:
            value = json.loads(legacy)
        except ValueError:
            raise SnapshotUnreadable("the legacy snapshot is not JSON") from None
        if not isinstance(value, dict):
            raise SnapshotUnreadable("the legacy snapshot is not an object")
        return value
    parts: list[str] = []
    while (part := metadata.get(f"{PREFIX}{len(parts):02d}")) is not None:
        parts.append(part)
    value = loads("".join(parts))
    if not isinstance(value, dict):
        raise SnapshotUnreadable("the snapshot is not a record")
    return value
