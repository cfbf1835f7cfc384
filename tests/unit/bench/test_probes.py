"""The bench says what bounds each figure (#17 item 4): over 85 % of the machine busy, a figure
is flagged as bounded by the neighbours (or by our own processes filling every core); on a
machine with 4 cores or more the sandbox and the load generator get a core each."""

from __future__ import annotations

from app.bench.probes import CpuUsage
from app.bench.runner import Placement


def usage(busy: float, outside: float, web_s: float = 0.5) -> CpuUsage:
    return CpuUsage(elapsed_s=1.0, seconds={"web": web_s, "sandbox": 0.2},
                    machine_busy_pct=busy, outside_pct=outside, cores=2)


def test_a_busy_machine_is_named() -> None:
    assert usage(100, 74).bound() == "neighbours (machine 100 % busy, 74 % not ours)"
    assert usage(86, 10).bound().startswith("neighbours")
    assert usage(95, 3).bound() == "the machine's 2 cores (95 % busy)"


def test_a_quiet_machine_names_the_process_or_not_cpu() -> None:
    assert usage(85, 40).bound() == "not CPU (machine 85 % busy, web 50 %)"
    assert usage(60, 5, web_s=0.95).bound() == "web CPU (95 % of a core)"


def test_cores_are_pinned_only_with_four_or_more() -> None:
    assert Placement.for_machine({0, 1}).product is None
    assert Placement.for_machine({0, 1, 2}).product is None
    four = Placement.for_machine({0, 1, 2, 3})
    assert (four.product, four.load, four.sandbox) == ({0, 1}, {2}, {3})
    assert "sandbox on [3]" in four.describe()
