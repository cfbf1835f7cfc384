"""Opening hours as pure arithmetic: intervals read as owners write them, open spans across
midnight and closures, "open now?", "opens next", and the 15-minute slots, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.restaurants import hours
from app.restaurants.opening import asap_time, last_orders_text, opening_text

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def week(text: str, days: range = range(7)) -> tuple[hours.Interval, ...]:
    return tuple(item for day in days for item in hours.parse_day(day, text))


LUNCH_DINNER = hours.Schedule("Europe/Berlin", week("11:30-14:30, 17:30-22:00"))
LATE_BAR = hours.Schedule("Europe/Berlin", week("18:00-02:00", range(4, 6)))  # Fri, Sat


def test_a_day_reads_as_written_and_refuses_what_it_cannot_read() -> None:
    found = hours.parse_day(2, "11:30-14:30; 17:30 to 22:00")
    assert [(item.opens, item.closes) for item in found] == [(690, 870), (1050, 1320)]
    assert hours.day_text(found, 2) == "11:30-14:30, 17:30-22:00"
    assert hours.parse_day(0, "") == []
    assert hours.parse_day(0, "00:00-24:00")[0].closes == hours.DAY_MINUTES
    for bad in ("11:30", "25:00-26:00", "11:30-11:30", "10:00-14:00, 13:00-15:00", "noon-3",
                "24:00-02:00"):
        with pytest.raises(hours.HoursInvalid):
            hours.parse_day(0, bad)


@pytest.mark.parametrize(("text", "read"), [
    ("9-17", "09:00-17:00"),
    ("9:30-17", "09:30-17:00"),
    ("9 - 17:30, 18-23", "09:00-17:30, 18:00-23:00"),
    ("0-24", "00:00-24:00"),
    ("18-2", "18:00-02:00"),
])
def test_whole_hours_may_be_written_without_minutes(text: str, read: str) -> None:
    assert hours.day_text(hours.parse_day(0, text), 0) == read


@pytest.mark.parametrize("bad", ["9-", "9h-17", "999-17", "25-26", "17.5-20", "9:3-17", "-9"])
def test_junk_is_still_not_a_time(bad: str) -> None:
    with pytest.raises(hours.HoursInvalid):
        hours.parse_day(0, bad)


def test_a_night_keeps_past_midnight_but_not_past_the_morning() -> None:
    """"14:30-11:30" was saved as 21 hours from 14:30 to 11:30 the next day: a lunch typed
    backwards. A bar's night (until 06:00 at the latest) still passes midnight."""
    for night in ("18:00-02:00", "22:00-06:00", "20:00-00:00"):
        assert hours.day_text(hours.parse_day(4, night), 4) == night
    for typo, swapped in (("14:30-11:30", "11:30-14:30"), ("17-9", "09:00-17:00"),
                          ("22:00-06:15", "06:15-22:00")):
        with pytest.raises(hours.HoursInvalid) as refused:
            hours.parse_day(4, f"08:00-09:00, {typo}")
        assert repr(typo) in str(refused.value)
        assert f"did you mean {swapped}?" in str(refused.value)
    # a night that runs into the morning is told how to write it, not only the swap
    with pytest.raises(hours.HoursInvalid) as refused:
        hours.parse_day(4, "18:00-07:00")
    assert "write 18:00-06:00 here and the morning on the next day" in str(refused.value)


def test_a_range_that_closes_at_midnight_stays_closed_outside_it() -> None:
    # "23:00-00:00" once saved a closing time of 0 that reading back skipped: the restaurant
    # had no hours left and was open around the clock (CI caught it at 19:00 UTC).
    evening = hours.parse_day(2, "23:00-00:00")
    assert [(item.opens, item.closes) for item in evening] == [(1380, hours.DAY_MINUTES)]
    assert hours.day_text(evening, 2) == "23:00-00:00"
    assert hours.day_text(hours.parse_day(2, "00:00-24:00"), 2) == "00:00-24:00"
    # a day that opens in the morning runs to 24:00, not "02:00-00:00" (read as backwards)
    assert hours.day_text(hours.parse_day(2, "02:00-24:00"), 2) == "02:00-24:00"
    assert hours.day_text(hours.parse_day(2, "11:30-00:00"), 2) == "11:30-24:00"
    for rows in (hours.to_rows(evening), [[2, 1380, 0]]):  # as stored now, and before
        late = hours.Schedule("Europe/Berlin", hours.from_rows(rows))
        assert not hours.is_open(late, berlin(2026, 12, 2, 22, 59))
        assert hours.is_open(late, berlin(2026, 12, 2, 23, 30))
        assert not hours.is_open(late, berlin(2026, 12, 3, 0, 0))
        assert hours.next_opening(late, berlin(2026, 12, 2, 12, 0)) == berlin(2026, 12, 2, 23, 0)


def test_stored_rows_round_trip_and_junk_is_skipped() -> None:
    intervals = week("11:30-14:30, 17:30-22:00")
    assert hours.from_rows(hours.to_rows(intervals)) == tuple(
        sorted(intervals, key=lambda item: (item.weekday, item.opens)))
    assert hours.from_rows([[7, 0, 60], [0, "x", 5], "junk", [1, 600, 600]]) == ()
    assert hours.from_rows("nonsense") == ()


def test_open_now_and_next_opening_between_lunch_and_dinner() -> None:
    afternoon = berlin(2026, 12, 2, 15, 0)  # a Wednesday
    assert not hours.is_open(LUNCH_DINNER, afternoon)
    assert hours.next_opening(LUNCH_DINNER, afternoon) == berlin(2026, 12, 2, 17, 30)
    assert hours.is_open(LUNCH_DINNER, berlin(2026, 12, 2, 12, 0))
    assert not hours.is_open(LUNCH_DINNER, berlin(2026, 12, 2, 22, 0))  # closing is closed
    assert opening_text(LUNCH_DINNER, afternoon) == "Opens today at 17:30"
    assert opening_text(LUNCH_DINNER, berlin(2026, 12, 2, 23, 0)) == "Opens tomorrow at 11:30"


def test_a_range_past_midnight_belongs_to_the_day_it_opens() -> None:
    assert hours.is_open(LATE_BAR, berlin(2026, 12, 5, 1, 30))  # Saturday 01:30: Friday's
    assert hours.is_open(LATE_BAR, berlin(2026, 12, 6, 1, 59))  # Sunday 01:59: Saturday's
    assert not hours.is_open(LATE_BAR, berlin(2026, 12, 6, 2, 0))
    assert not hours.is_open(LATE_BAR, berlin(2026, 12, 4, 1, 0))  # Thursday's night: closed
    assert hours.next_opening(LATE_BAR, berlin(2026, 12, 6, 3, 0)) == berlin(2026, 12, 11, 18)
    assert opening_text(LATE_BAR, berlin(2026, 12, 6, 3, 0)) == "Closed until Fri 18:00"


def test_a_closure_cuts_whole_local_days_and_says_why() -> None:
    closed = hours.Schedule("Europe/Berlin", LUNCH_DINNER.intervals,
                            (hours.Closure(date(2026, 12, 24), date(2026, 12, 26), "holiday"),))
    assert not hours.is_open(closed, berlin(2026, 12, 25, 12, 0))
    assert hours.next_opening(closed, berlin(2026, 12, 24, 9, 0)) == berlin(2026, 12, 27, 11, 30)
    assert opening_text(closed, berlin(2026, 12, 24, 9, 0)) == "Closed until Sun 11:30 (holiday)"
    late = hours.Schedule("Europe/Berlin", LATE_BAR.intervals,
                          (hours.Closure(date(2026, 12, 5), date(2026, 12, 5), ""),))
    assert hours.is_open(late, berlin(2026, 12, 4, 23, 0))  # Friday night still open…
    assert not hours.is_open(late, berlin(2026, 12, 5, 0, 30))  # …until the closed day


def test_an_opening_ends_at_its_closing_past_midnight_or_where_a_closure_starts() -> None:
    assert hours.open_until(LUNCH_DINNER, berlin(2026, 12, 2, 12, 0)) == berlin(2026, 12, 2, 14, 30)
    assert hours.open_until(LUNCH_DINNER, berlin(2026, 12, 2, 15, 0)) is None  # closed
    # Friday's night runs into Saturday's small hours: one opening, not two.
    assert hours.open_until(LATE_BAR, berlin(2026, 12, 4, 23, 0)) == berlin(2026, 12, 5, 2, 0)
    late = hours.Schedule("Europe/Berlin", LATE_BAR.intervals,
                          (hours.Closure(date(2026, 12, 5), date(2026, 12, 5), ""),))
    assert hours.open_until(late, berlin(2026, 12, 4, 23, 0)) == berlin(2026, 12, 5, 0, 0)
    anytime = hours.Schedule("Europe/Berlin")  # no closing within the horizon
    assert hours.open_until(anytime, berlin(2026, 12, 2, 4, 0)) == \
        berlin(2026, 12, 2, 4, 0) + hours.OPEN_UNTIL_HORIZON


def test_orders_for_now_stop_the_prep_time_before_closing() -> None:
    """A kitchen taking 20 minutes takes its last order for now at 14:10 for a 14:30
    closing: one at 14:11 would be made after it has closed."""
    asap = asap_time(LUNCH_DINNER, berlin(2026, 12, 2, 14, 10), 20)
    assert asap.taken and asap.closes_at == berlin(2026, 12, 2, 14, 30)
    asap = asap_time(LUNCH_DINNER, berlin(2026, 12, 2, 14, 11), 20)
    assert not asap.taken and asap.last_order == berlin(2026, 12, 2, 14, 10)
    assert last_orders_text(LUNCH_DINNER, asap) == \
        "Last orders were at 14:10. Opens today at 17:30"
    closed = asap_time(LUNCH_DINNER, berlin(2026, 12, 2, 15, 0), 20)
    assert not closed.taken and closed.closes_at is None


def test_no_hours_means_always_open() -> None:
    anytime = hours.Schedule("Europe/Berlin")
    assert hours.is_open(anytime, berlin(2026, 12, 2, 4, 0))
    assert hours.slots(anytime, berlin(2026, 12, 2, 4, 1), lead_minutes=15, days_ahead=1)[0] == \
        berlin(2026, 12, 2, 4, 30)


def test_slots_are_on_the_grid_inside_hours_after_the_lead_time() -> None:
    now = berlin(2026, 12, 2, 13, 58)
    found = hours.slots(LUNCH_DINNER, now, lead_minutes=20, days_ahead=1)
    local = [slot.astimezone(BERLIN).strftime("%d %H:%M") for slot in found]
    assert local[0] == "02 17:30"  # 14:18 is the earliest; 14:30 is closing time, not a slot
    assert "02 21:45" in local and "02 22:00" not in local
    assert local[-1] == "03 21:45"  # tomorrow, the whole day (22:00 is the close)
    assert all(slot.minute % 15 == 0 and slot.second == 0 for slot in found)
    assert hours.slots(LUNCH_DINNER, now, lead_minutes=20, days_ahead=0) == []


def test_a_slot_is_checked_with_a_reason() -> None:
    now = berlin(2026, 12, 2, 15, 0)

    def problem(slot: datetime, **extra: object) -> str:
        return hours.slot_problem(LUNCH_DINNER, slot, now, lead_minutes=15, days_ahead=7,
                                  **extra)  # type: ignore[arg-type]

    assert problem(berlin(2026, 12, 2, 17, 30)) == ""
    assert "grid" in problem(berlin(2026, 12, 2, 17, 40))
    assert "closed" in problem(berlin(2026, 12, 2, 16, 0))
    assert "at least 15 minutes" in problem(berlin(2026, 12, 2, 15, 0))
    assert "7 days" in problem(berlin(2026, 12, 10, 12, 0))
    assert "at least" in problem(berlin(2026, 12, 2, 17, 30),
                                 not_before=berlin(2026, 12, 2, 17, 30))


def test_the_last_day_ahead_is_whole_on_the_local_clock_offered_and_accepted() -> None:
    """`days_ahead` is whole local days after today: the last one was cut at the time of day
    it was asked (a week ahead at 12:00 offered and accepted nothing after 12:00)."""
    always = hours.Schedule("Europe/Berlin", week("00:00-24:00"))
    for now in (berlin(2026, 12, 2, 12, 0), berlin(2026, 12, 2, 0, 30)):  # 23:30 UTC the day before
        found = hours.slots(always, now, lead_minutes=15, days_ahead=7)
        assert found[-1] == berlin(2026, 12, 9, 23, 45), now
        assert hours.slot_problem(always, found[-1], now, lead_minutes=15, days_ahead=7) == ""
        assert "at most 7 days" in hours.slot_problem(
            always, berlin(2026, 12, 10, 0, 0), now, lead_minutes=15, days_ahead=7)


def test_dst_spring_forward_keeps_the_local_clock() -> None:
    # 29 March 2026: Berlin jumps from 02:00 to 03:00. Noon is 10:00 UTC after, 11:00 before.
    assert hours.next_opening(LUNCH_DINNER, berlin(2026, 3, 29, 9, 0)) == \
        datetime(2026, 3, 29, 9, 30, tzinfo=UTC)
    assert hours.next_opening(LUNCH_DINNER, berlin(2026, 3, 28, 9, 0)) == \
        datetime(2026, 3, 28, 10, 30, tzinfo=UTC)
    night = hours.Schedule("Europe/Berlin", week("22:00-06:00", range(5, 6)))  # Sat night
    spans = hours.open_spans(night, datetime(2026, 3, 28, tzinfo=UTC),
                             datetime(2026, 3, 30, tzinfo=UTC))
    assert spans == [(datetime(2026, 3, 28, 21, tzinfo=UTC), datetime(2026, 3, 29, 4, tzinfo=UTC))]
    assert spans[0][1] - spans[0][0] == timedelta(hours=7)  # one hour shorter that night


def test_dst_fall_back_slots_are_not_doubled() -> None:
    # 25 October 2026: 03:00 summer time becomes 02:00 winter time; the night is an hour longer.
    night = hours.Schedule("Europe/Berlin", week("00:00-24:00", range(6, 7)))  # Sunday
    found = hours.slots(night, berlin(2026, 10, 24, 23, 0), lead_minutes=0, days_ahead=2)
    assert len(found) == 25 * 4  # 25 hours that day
    assert len(set(found)) == len(found)
    assert found == sorted(found)


def test_the_first_slot_offered_stays_choosable_while_a_diner_fills_in_the_form() -> None:
    """Whenever the page is rendered, the first slot it offers is still accepted five
    minutes later (it was refused within seconds when rendered just before a quarter hour,
    and a diner who took a minute got "at least 15 minutes from now")."""
    always = hours.Schedule("Europe/Berlin", week("00:00-24:00"))
    start = berlin(2026, 12, 2, 12, 0)
    for second in range(0, 15 * 60, 7):
        now = start + timedelta(seconds=second)
        first = hours.slots(always, now, lead_minutes=15, days_ahead=2)[0]
        later = now + timedelta(minutes=5)  # a diner filling in the form
        assert hours.slot_problem(always, first, later, lead_minutes=15, days_ahead=2) == "", (
            now, first)
