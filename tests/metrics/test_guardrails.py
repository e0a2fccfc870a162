"""The guardrails' rules on hand-made results: when the speed trap springs and where utilization is flagged."""

from __future__ import annotations

from deskpulse.config import GuardrailsConfig
from deskpulse.metrics.guardrails import BURNOUT, HIGH, LOW, change, speed_trap, utilization_flag


def result(value: float | None, n: int = 20) -> dict[str, float | int | None]:
    return {"value": value, "n": n}


def test_change_follows_each_metrics_better_direction() -> None:
    assert change("first_response_time", result(1800), result(3600)) == "better"  # lower is better
    assert change("one_touch_rate", result(0.5), result(0.6)) == "worse"  # higher is better
    assert change("reopen_rate", result(0.1), result(0.1)) == "same"
    assert change("reopen_rate", result(0.1), result(None)) is None
    assert change("reopen_rate", result(0.1), result(0.2, n=0)) is None  # nothing behind the number


def test_faster_first_replies_with_fewer_one_touch_resolutions_spring_the_trap() -> None:
    before = {"first_response_time": result(3600), "one_touch_rate": result(0.62), "reopen_rate": result(0.05)}
    now = {"first_response_time": result(1800), "one_touch_rate": result(0.48), "reopen_rate": result(0.05)}
    warning = speed_trap(now, before, "2026-W10", "2026-W09")
    assert warning is not None and warning.kind == "speed_trap"
    # It names the speed gained and the quality lost, with the n behind the worse number.
    assert "First response time 1h 00m → 30m" in warning.message
    assert "One-touch rate (FCR) 62% → 48% (n 20 → 20)" in warning.message
    assert "Reopen rate" not in warning.message  # unchanged


def test_no_trap_when_quality_holds_or_speed_did_not_improve() -> None:
    before = {"first_response_time": result(3600), "one_touch_rate": result(0.6)}
    assert speed_trap({"first_response_time": result(1800), "one_touch_rate": result(0.7)}, before, "b", "a") is None
    assert speed_trap({"first_response_time": result(5400), "one_touch_rate": result(0.4)}, before, "b", "a") is None


def test_utilization_is_flagged_outside_its_band() -> None:
    band = GuardrailsConfig()  # 70–80 %, burnout above 85 %
    assert utilization_flag(0.69, band) == LOW
    assert utilization_flag(0.70, band) is None
    assert utilization_flag(0.80, band) is None
    assert utilization_flag(0.81, band) == HIGH
    assert utilization_flag(0.85, band) == HIGH
    assert utilization_flag(0.86, band) == BURNOUT
    assert utilization_flag(None, band) is None
