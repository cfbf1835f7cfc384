"""Opening hours as pure arithmetic: weekly intervals and exceptional closures on the
restaurant's clock (zoneinfo, so DST-correct), turned into spans of UTC time; from those
"open now?", "opens next at" and the 15-minute slots a diner may schedule an order for.

- An interval belongs to the weekday it opens on (0 = Monday). `closes <= opens` means it
  passes midnight (18:00-02:00 ends on the next day); 00:00-24:00 is the whole day.
- A closure covers whole local days, `starts_on` to `ends_on` inclusive, and cuts whatever
  intervals fall in it (the tail of a night that runs into a closed day too).
- No weekly intervals at all means hours are not in use: always open (restaurants that never
  set hours keep working as before).
- Local times that do not exist (the hour skipped in spring) are read as zoneinfo reads them
  (fold 0, the offset before the change), so 02:30 on that day is 03:30 summer time; an hour
  repeated in autumn is taken once, at its first occurrence.

Slots are every SLOT_MINUTES on the local clock (every real zone's offset is a multiple of 15
minutes, so they are whole multiples of 15 minutes since the epoch too), inside an open span
(a slot at closing time is not one), at least the lead time ahead, and on at most a number of
whole local days after today (the last one up to its midnight)."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SLOT_MINUTES = 15
DAY_MINUTES = 24 * 60
NOON_MINUTES = 12 * 60
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ALL_WEEK = tuple((day, 0, DAY_MINUTES) for day in range(7))
# "17:30", "17.30", "17h30", "1730", "9:00", and a whole hour alone ("9", "17").
_CLOCK = re.compile(r"^([01]?[0-9]|2[0-4])(?:[:.h]?([0-5][0-9]))?$")  # ASCII digits only
# The latest a range passing midnight may close: a bar's "18:00-02:00" is a night, but
# "14:30-11:30" (21 hours) is a lunch typed backwards. A place open later than this the next
# morning writes that morning on the next day ("00:00-08:00").
LATEST_NIGHT_CLOSE = 6 * 60

Span = tuple[datetime, datetime]  # [start, end) in UTC


class HoursInvalid(ValueError):
    """A written interval that cannot be read; the message is for the form field."""


QUOTE_MAX = 24  # characters of what was written that an error message quotes


def quoted(text: str) -> str:
    """What was written, for an error message: a short excerpt (a 5,000-character value is
    not said back whole), control characters and direction overrides escaped by repr."""
    text = text.strip()
    return repr(text if len(text) <= QUOTE_MAX else text[:QUOTE_MAX] + "…")


@dataclass(frozen=True)
class Interval:
    weekday: int  # 0 = Monday, the day it opens on
    opens: int  # minutes after local midnight, 0..1439
    closes: int  # 1..1440; at or before `opens`: the next day

    @property
    def label(self) -> str:
        # Midnight closing an evening reads as owners write it ("18:00-00:00"); closing a
        # range that opened in the morning it is 24:00 ("02:00-24:00", "00:00-24:00" the whole
        # day): "02:00-00:00" read as a range running backwards (an outside try).
        closes = self.closes if self.opens < NOON_MINUTES else self.closes % DAY_MINUTES
        return f"{clock_text(self.opens)}-{clock_text(closes)}"


@dataclass(frozen=True)
class Closure:
    starts_on: date
    ends_on: date  # inclusive
    reason: str = ""


@dataclass(frozen=True)
class Schedule:
    timezone: str
    intervals: tuple[Interval, ...] = ()
    closures: tuple[Closure, ...] = ()
    zone: ZoneInfo = field(init=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            zone = ZoneInfo("UTC")
        object.__setattr__(self, "zone", zone)

    @property
    def always_open(self) -> bool:
        return not self.intervals


# -- time zones ------------------------------------------------------------------------------

@functools.cache
def place_zones() -> tuple[str, ...]:
    """The time zones an owner may choose: a place ("Europe/Berlin"), whose rules follow its
    daylight saving time, and UTC. Not abbreviations or fixed offsets ("EST", "CET",
    "Etc/GMT+5"): zoneinfo accepts them, but "EST" never moves to summer time, so a New York
    restaurant choosing it would show every time an hour off half the year."""
    return tuple(sorted(name for name in zoneinfo.available_timezones()
                        if ("/" in name and not name.startswith(("Etc/", "SystemV/", "posix/",
                                                                 "right/")))
                        or name == "UTC"))


def timezone_problem(name: str) -> str:
    """Why `name` is no time zone a restaurant can run on ("" when it is)."""
    if name in place_zones():
        return ""
    folded = {zone.lower(): zone for zone in place_zones()}
    if name.lower() in folded:
        return f"Did you mean {folded[name.lower()]}? (capitals as written there)"
    places = [zone for zone in place_zones() if zone.lower().endswith("/" + name.lower())]
    if len(places) == 1:
        return f"Did you mean {places[0]}?"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "Unknown time zone (e.g. Europe/Berlin)."
    return (f"{name} is an abbreviation or a fixed offset, not a place: choose the place "
            "whose clock the restaurant keeps, e.g. Europe/Berlin or America/New_York (EST, "
            "for one, never moves to summer time).")


# -- reading and writing intervals ----------------------------------------------------------

def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_clock(text: str) -> int:
    """Minutes after midnight from "17:30", "1730", "9:00", "9" or "24:00"."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise HoursInvalid(f"{quoted(text)} is not a time like 17:30")
    minutes = int(match.group(1)) * 60 + int(match.group(2) or 0)
    if minutes > DAY_MINUTES:
        raise HoursInvalid(f"{text.strip()} is past 24:00")
    return minutes


def parse_day(weekday: int, text: str) -> list[Interval]:
    """One weekday's intervals as an owner writes them: "11:30-14:30, 17:30-22:00" (empty:
    closed that day). Overlapping intervals are refused, so what is saved reads back as
    written."""
    found: list[Interval] = []
    for part in filter(None, (piece.strip() for piece in re.split(r"[,;]", text))):
        bounds = re.split(r"\s*(?:-|\u2013|\u2014|to)\s*", part)  # hyphen, en/em dash
        if len(bounds) != 2:
            raise HoursInvalid(f"{quoted(part)}: write each range as 11:30-14:30")
        opens, closes = parse_clock(bounds[0]), parse_clock(bounds[1])
        if opens == DAY_MINUTES:
            raise HoursInvalid(f"{quoted(part)}: a range cannot open at 24:00")
        if opens == closes:
            raise HoursInvalid(f"{quoted(part)}: opens and closes at the same time "
                               "(00:00-24:00 is the whole day)")
        if LATEST_NIGHT_CLOSE < closes < opens:
            # Typed backwards ("14:30-11:30") or a night that runs into the morning
            # ("18:00-07:00"): the form cannot tell which, so it offers both ways out.
            raise HoursInvalid(
                f"{quoted(part)} would close at {clock_text(closes)} the next day, and a night "
                f"ends by {clock_text(LATEST_NIGHT_CLOSE)}: did you mean "
                f"{clock_text(closes)}-{clock_text(opens)}? Open through the night, write "
                f"{clock_text(opens)}-{clock_text(LATEST_NIGHT_CLOSE)} here and the morning "
                "on the next day")
        # Closing at 00:00 is closing at midnight, the end of the day it opens on: stored as
        # 1440, like every other closing time that is not a time of the next day.
        found.append(Interval(weekday, opens, closes or DAY_MINUTES))
    spans = sorted((item.opens, item.opens + _length(item)) for item in found)
    for (_, end), (start, _) in pairwise(spans):
        if start < end:
            raise HoursInvalid("ranges overlap; write them as one")
    return found


def night_overlaps(intervals: Iterable[Interval]) -> dict[int, str]:
    """Weekday → why its hours overlap the night before's, which runs past midnight into
    it (Monday 18:00-02:00 and Tuesday 01:00-03:00): each day is checked alone by
    `parse_day`, so this pair was saved as typed, two ranges for one stretch of time."""
    found = sorted(intervals, key=lambda item: (item.weekday, item.opens))
    problems: dict[int, str] = {}
    for night in found:
        if night.closes > night.opens:
            continue  # closes the day it opens
        morning = (night.weekday + 1) % 7
        clash = next((item for item in found
                      if item.weekday == morning and item.opens < night.closes), None)
        if clash is not None and morning not in problems:
            problems[morning] = (
                f"{clash.label} overlaps {WEEKDAYS[night.weekday]}'s {night.label}, which "
                f"runs to {clock_text(night.closes)} on {WEEKDAYS[morning]}; write them as "
                "one range")
    return problems


def day_text(intervals: Iterable[Interval], weekday: int) -> str:
    return ", ".join(item.label for item in sorted(intervals, key=lambda item: item.opens)
                     if item.weekday == weekday)


def to_rows(intervals: Iterable[Interval]) -> list[list[int]]:
    """The stored form (restaurant.weekly_hours, JSON): [[weekday, opens, closes], …]."""
    return [[item.weekday, item.opens, item.closes]
            for item in sorted(intervals, key=lambda item: (item.weekday, item.opens))]


def from_rows(rows: object) -> tuple[Interval, ...]:
    """Intervals from the stored form; anything malformed is skipped (never a 500). A closing
    time of 0 (midnight, as saved before it was stored as 1440) is read as 1440."""
    found: list[Interval] = []
    if not isinstance(rows, list):
        return ()
    for row in rows:
        if (isinstance(row, list) and len(row) == 3 and all(isinstance(v, int) for v in row)
                and 0 <= row[0] <= 6 and 0 <= row[1] < DAY_MINUTES
                and 0 <= row[2] <= DAY_MINUTES and row[1] != row[2]):
            found.append(Interval(row[0], row[1], row[2] or DAY_MINUTES))
    return tuple(found)


def _length(item: Interval) -> int:
    return item.closes - item.opens if item.closes > item.opens else (
        DAY_MINUTES - item.opens + item.closes)


# -- open spans -------------------------------------------------------------------------------

def _local(zone: ZoneInfo, day: date, minutes: int) -> datetime:
    extra, minutes = divmod(minutes, DAY_MINUTES)
    moment = datetime.combine(day + timedelta(days=extra), time(minutes // 60, minutes % 60),
                              tzinfo=zone)
    return moment.astimezone(UTC)


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _cut(spans: list[Span], holes: Sequence[Span]) -> list[Span]:
    for hole_start, hole_end in holes:
        kept: list[Span] = []
        for start, end in spans:
            if end <= hole_start or start >= hole_end:
                kept.append((start, end))
                continue
            if start < hole_start:
                kept.append((start, hole_start))
            if end > hole_end:
                kept.append((hole_end, end))
        spans = kept
    return spans


def closure_spans(schedule: Schedule) -> list[tuple[Span, Closure]]:
    return [((_local(schedule.zone, closure.starts_on, 0),
              _local(schedule.zone, closure.ends_on + timedelta(days=1), 0)), closure)
            for closure in schedule.closures]


def open_spans(schedule: Schedule, start: datetime, end: datetime) -> list[Span]:
    """The open spans that meet [start, end), merged, closures cut out."""
    if schedule.always_open:
        spans = [(start, end)]
    else:
        first = start.astimezone(schedule.zone).date() - timedelta(days=1)
        last = end.astimezone(schedule.zone).date()
        spans = []
        day = first
        while day <= last:
            for item in schedule.intervals:
                if item.weekday == day.weekday():
                    spans.append((_local(schedule.zone, day, item.opens),
                                  _local(schedule.zone, day, item.opens + _length(item))))
            day += timedelta(days=1)
    spans = _cut(_merge(spans), [span for span, _ in closure_spans(schedule)])
    return [(max(s, start), min(e, end)) for s, e in spans if e > start and s < end]


def is_open(schedule: Schedule, now: datetime) -> bool:
    return bool(open_spans(schedule, now, now + timedelta(seconds=1)))


# How far `open_until` looks ahead: past any payment link's life (Stripe's are 24 h at most).
OPEN_UNTIL_HORIZON = timedelta(days=2)


def open_until(schedule: Schedule, now: datetime) -> datetime | None:
    """When the opening `now` falls in ends (the next closing, or a closure's start), at most
    OPEN_UNTIL_HORIZON ahead; None when closed at `now`."""
    spans = open_spans(schedule, now, now + OPEN_UNTIL_HORIZON)
    if not spans or spans[0][0] > now:
        return None
    return spans[0][1]


def next_opening(schedule: Schedule, now: datetime, horizon_days: int = 60
                 ) -> datetime | None:
    """`now` when open, else when it next opens (None: not within the horizon)."""
    spans = open_spans(schedule, now, now + timedelta(days=horizon_days))
    return spans[0][0] if spans else None


def closure_at(schedule: Schedule, moment: datetime) -> Closure | None:
    """The exceptional closure `moment` falls in, if any (its reason is worth saying)."""
    for (start, end), closure in closure_spans(schedule):
        if start <= moment < end:
            return closure
    return None


# -- slots ------------------------------------------------------------------------------------

def _ceil_slot(moment: datetime) -> datetime:
    step = SLOT_MINUTES * 60
    seconds = -(-int(moment.timestamp()) // step) * step
    return datetime.fromtimestamp(seconds, UTC)


# A slot is offered only while it stays choosable this long: `slot_problem` accepts a slot
# `lead_minutes` ahead, so the first slot offered right before a quarter hour was refused
# ("at least 15 minutes from now") to a diner who took a minute to fill in the form.
OFFER_MARGIN_MINUTES = 5


def horizon(schedule: Schedule, now: datetime, days_ahead: int) -> datetime:
    """The end (exclusive, UTC) of the last day a diner may order for: the restaurant's
    midnight after the local day `days_ahead` days after today. Whole days, so the last one
    is not cut at the time of day the diner happens to look."""
    last_day = now.astimezone(schedule.zone).date() + timedelta(days=days_ahead)
    return _local(schedule.zone, last_day + timedelta(days=1), 0)


def slots(schedule: Schedule, now: datetime, *, lead_minutes: int, days_ahead: int,
          not_before: datetime | None = None) -> list[datetime]:
    """Every slot (UTC) a diner may choose now and for the next OFFER_MARGIN_MINUTES: on the
    15-minute grid, inside an open span, at least `lead_minutes` + that margin after `now`
    (or after `not_before`, the end of a pause), before the `horizon`."""
    if days_ahead <= 0:
        return []
    earliest = max(now, not_before or now) + timedelta(
        minutes=lead_minutes + OFFER_MARGIN_MINUTES)
    found: list[datetime] = []
    step = timedelta(minutes=SLOT_MINUTES)
    for start, end in open_spans(schedule, earliest, horizon(schedule, now, days_ahead)):
        slot = _ceil_slot(start)
        while slot < end:
            found.append(slot)
            slot += step
    return found


def slot_problem(schedule: Schedule, slot: datetime, now: datetime, *, lead_minutes: int,
                 days_ahead: int, not_before: datetime | None = None) -> str:
    """Why `slot` cannot be chosen ("" when it can), in words for the diner."""
    if int(slot.timestamp()) % (SLOT_MINUTES * 60) or slot.microsecond:
        return f"choose a time on the {SLOT_MINUTES}-minute grid (e.g. 19:00, 19:15)"
    if days_ahead <= 0:
        return "this restaurant does not take orders for later"
    earliest = max(now, not_before or now) + timedelta(minutes=lead_minutes)
    if slot < earliest:
        return f"choose a time at least {lead_minutes} minutes from now"
    if slot >= horizon(schedule, now, days_ahead):
        return f"choose a time at most {days_ahead} days ahead"
    if not open_spans(schedule, slot, slot + timedelta(seconds=1)):
        closure = closure_at(schedule, slot)
        why = f" ({closure.reason})" if closure and closure.reason else ""
        return f"the restaurant is closed at that time{why}"
    return ""
