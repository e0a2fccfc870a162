"""How well `deskpulse trends` finds spikes and rises, and what it flags on a real mailing list.

Part 1 generates daily ticket counts the way help desks see them: levels from 2 to 200 tickets a day
(log-uniform), a weekday pattern (most series quiet at weekends, some open every day), a slow drift of the
level, and day-to-day noise beyond Poisson (a gamma-distributed daily factor, coefficient of variation 0–20 %).
Into half of the series it plants one spike: the expected count times 1.5, 2, 3 or 5 for 1, 2, 3 or 5 days. It
prints the recall per spike size and length (a spike is found when an alarm overlaps its days), per volume
band, and the false alarms per 1,000 series-days: alarm episodes on the series without a spike, over the days
that are tested (after the four weeks of history a series needs).

Part 2 plants sustained rises (the level times 1.3, 1.5 or 2 from some week on) and prints how many the weekly
test finds within six weeks, and its false rises per 1,000 series-weeks on the series without one.

Part 3 imports every month of the R-help archive (2019-01 … 2026-07) into a temporary store and runs the trends
of the whole history, as `deskpulse trends --since 2019-01-01` would: overall volume (the list has no
categories) and the emerging topics of its last four weeks, and of four earlier points in time.

    python benchmarks/trends_eval.py [--series 12000] [--seed 1] [--no-real]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from deskpulse.insight.volume import RiseSettings, SpikeSettings, scan_rises, scan_spikes

DAYS = 7 * 26  # half a year of days per series
SIZES = (1.5, 2.0, 3.0, 5.0)
LENGTHS = (1, 2, 3, 5)
BANDS = ((2, 10), (10, 50), (50, 201))
RISE_SIZES = (1.3, 1.5, 2.0)


@dataclass(frozen=True)
class Planted:
    series: int
    start: int
    length: int
    size: float
    level: float


def expected_counts(rng: np.random.Generator, series: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """The true daily means (series × days) and each series' level."""
    levels = np.exp(rng.uniform(np.log(2), np.log(200), series))
    weekday = np.array([1.25, 1.15, 1.1, 1.05, 0.95, 0.3, 0.2])
    profiles = weekday * rng.uniform(0.9, 1.1, (series, 7))
    open_every_day = rng.random(series) < 0.3
    profiles[open_every_day] = rng.uniform(0.85, 1.15, (int(open_every_day.sum()), 7))
    profiles /= profiles.mean(axis=1, keepdims=True)
    day_index = np.arange(days)
    weekdays = np.broadcast_to(day_index % 7, (series, days))  # one calendar, as the series of one store share
    drift = np.exp(rng.normal(0, 0.15, series))[:, None] ** (day_index[None, :] / days)
    means = levels[:, None] * np.take_along_axis(profiles, weekdays, axis=1) * drift
    return means, levels


def noisy(rng: np.random.Generator, means: np.ndarray) -> np.ndarray:
    """Counts with extra-Poisson noise: each day's mean times a gamma factor with CV up to 20 %."""
    dispersion = rng.uniform(0.0, 0.04, means.shape[0])[:, None]
    shape = 1 / np.maximum(dispersion, 1e-9)
    factor = rng.gamma(np.broadcast_to(shape, means.shape), 1 / np.broadcast_to(shape, means.shape))
    return np.asarray(rng.poisson(means * factor), dtype=float)


def spike_evaluation(rng: np.random.Generator, series: int) -> None:
    settings = SpikeSettings()
    means, levels = expected_counts(rng, series, DAYS)
    planted: list[Planted] = []
    spiked_series = series // 2
    for row in range(spiked_series):
        size, length = SIZES[row % len(SIZES)], LENGTHS[(row // len(SIZES)) % len(LENGTHS)]
        start = int(rng.integers(7 * settings.min_history_weeks + 7, DAYS - length))
        means[row, start : start + length] *= size
        planted.append(Planted(row, start, length, size, float(levels[row])))
    counts = noisy(rng, means)
    began = time.perf_counter()
    scan = scan_spikes(counts, settings)
    seconds = time.perf_counter() - began
    alarms = defaultdict(list)
    for spike in scan.spikes:
        alarms[spike.series].append((spike.start, spike.end))

    found: dict[tuple[float, int], list[bool]] = defaultdict(list)
    found_by_band: dict[tuple[int, int], list[bool]] = defaultdict(list)
    for plant in planted:
        last = plant.start + plant.length - 1
        hit = any(start <= last and end >= plant.start for start, end in alarms[plant.series])
        found[(plant.size, plant.length)].append(hit)
        if plant.size == 3.0 and plant.length >= 2:
            band = next(b for b in BANDS if b[0] <= plant.level < b[1])
            found_by_band[band].append(hit)
    tested_days = DAYS - 7 * settings.min_history_weeks
    clean_series = range(spiked_series, series)
    false_alarms = sum(len(alarms[row]) for row in clean_series)
    false_days = sum(end - start + 1 for row in clean_series for start, end in alarms[row])
    series_days = len(clean_series) * tested_days

    print(f"Spikes: {series:,} generated series of {DAYS} days, {spiked_series:,} with one planted spike")
    print(f"  scan: {seconds:.2f} s for {series * DAYS:,} series-days")
    print("  recall by size (× expected) and length (days):")
    print("    size  " + "".join(f"{length:>8} d" for length in LENGTHS))
    for size in SIZES:
        cells = "".join(f"{np.mean(found[(size, length)]):>10.2f}" for length in LENGTHS)
        print(f"    {size:>4}× {cells}")
    target = [hit for (size, length), hits in found.items() if size == 3.0 and length >= 2 for hit in hits]
    print(f"  recall for 3× spikes of ≥ 2 days: {np.mean(target):.3f} ({sum(target)} of {len(target)}; target ≥ 0.9)")
    for band, hits in sorted(found_by_band.items()):
        print(f"    level {band[0]}–{band[1] - 1}/day: {np.mean(hits):.3f} ({sum(hits)} of {len(hits)})")
    print(
        f"  false alarms: {false_alarms} episodes ({false_days} days) in {series_days:,} series-days of "
        f"{len(clean_series):,} series without a spike = {1000 * false_alarms / series_days:.2f} per 1,000 "
        "series-days (target ≤ 2)"
    )


def rise_evaluation(rng: np.random.Generator, series: int) -> None:
    settings, spike_settings = RiseSettings(), SpikeSettings()
    weeks_total = DAYS // 7
    means, _ = expected_counts(rng, series, DAYS)
    risen = series // 2
    starts = {}
    for row in range(risen):
        week = int(rng.integers(settings.baseline_weeks + 6, weeks_total - 6))
        means[row, 7 * week :] *= RISE_SIZES[row % len(RISE_SIZES)]
        starts[row] = week
    counts = noisy(rng, means)
    scan = scan_spikes(counts, spike_settings)
    # Every generated series starts on its own weekday; align to whole weeks from each series' first day.
    observed = counts[:, : 7 * weeks_total].reshape(series, weeks_total, 7).sum(axis=2)
    cleaned = scan.cleaned[:, : 7 * weeks_total].reshape(series, weeks_total, 7).sum(axis=2)
    rises = scan_rises(observed, cleaned, settings)
    by_row = defaultdict(list)
    for rise in rises:
        by_row[rise.series].append(rise)
    hits: dict[float, list[bool]] = defaultdict(list)
    for row, week in starts.items():
        hit = any(week <= rise.end and rise.end < week + 6 for rise in by_row[row])
        hits[RISE_SIZES[row % len(RISE_SIZES)]].append(hit)
    tested_weeks = weeks_total - settings.baseline_weeks - settings.weeks + 1
    clean_rows = range(risen, series)
    false_rises = sum(len(by_row[row]) for row in clean_rows)
    print(f"Rises: {series:,} series of {weeks_total} weeks, {risen:,} with a lasting rise")
    for size in RISE_SIZES:
        print(f"  found within 6 weeks, {size}× level: {np.mean(hits[size]):.3f}")
    print(
        f"  false rises: {false_rises} in {len(clean_rows) * tested_weeks:,} series-weeks = "
        f"{1000 * false_rises / (len(clean_rows) * tested_weeks):.2f} per 1,000 series-weeks"
    )


def r_help_evaluation(data: Path) -> None:
    from deskpulse.config import parse_config
    from deskpulse.ingest import ingest_paths
    from deskpulse.insight.trends import TrendOptions, find_trends
    from deskpulse.store import Store

    files = sorted((data / "r-help-mbox" / "r-help").glob("*.txt"))
    if not files:
        print(f"R-help: no archive under {data}; skipped")
        return
    config = parse_config({})  # a mailing list has no agents: every sender is a customer
    with tempfile.TemporaryDirectory() as directory, Store.open(Path(directory) / "r-help.duckdb") as store:
        began = time.perf_counter()
        summary = ingest_paths(store, config, files)
        print(
            f"R-help: {summary.stored:,} messages, {summary.tickets:,} tickets in {time.perf_counter() - began:.0f} s"
        )
        began = time.perf_counter()
        report = find_trends(store, config, TrendOptions(since=date(2019, 1, 1)))
        print(f"  trends of the whole history in {time.perf_counter() - began:.1f} s")
        gap_days = sum((last - first).days + 1 for first, last in report.gaps)
        print(
            f"  gaps in the data: {len(report.gaps)} runs of a week or more without a message, {gap_days} days "
            f"(e.g. {', '.join(f'{first} … {last}' for first, last in report.gaps[:3])})"
        )
        print(f"  spikes ({len(report.spikes)}):")
        for spike in report.spikes:
            print(
                f"    {spike.first_day} … {spike.last_day}  {spike.series}: {spike.observed} tickets, "
                f"{spike.expected:.1f} expected ({spike.ratio:.1f}×), p = {spike.p_value:.1e}; "
                f"e.g. {', '.join(spike.subjects[:3])}"
            )
        print(f"  sustained rises ({len(report.rises)}):")
        for rise in report.rises:
            print(
                f"    {rise.first_week} … {rise.last_week}  {rise.series}: {rise.observed} tickets, "
                f"{rise.expected:.1f} expected ({rise.ratio:.1f}×), p = {rise.p_value:.1e}"
            )
        for until in (date(2020, 3, 31), date(2021, 12, 31), date(2023, 6, 30), date(2024, 12, 31), None):
            topics = report.topics if until is None else find_trends(store, config, TrendOptions(until=until)).topics
            label = "the last four weeks" if until is None else f"the four weeks to {until}"
            print(f"  emerging topics of {label} ({len(topics)}):")
            for topic in topics:
                state = "new" if topic.is_new else f"{topic.reference_tickets} in the 12 weeks before"
                print(
                    f"    {', '.join(topic.terms)}: {topic.tickets} tickets ({state}; p = {topic.p_value:.1e}); "
                    f"e.g. {' | '.join(topic.subjects[:3])}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=12000, help="generated series per part (default 12000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--no-real", action="store_true", help="skip the R-help archive")
    arguments = parser.parse_args()
    rng = np.random.default_rng(arguments.seed)
    spike_evaluation(rng, arguments.series)
    rise_evaluation(rng, arguments.series)
    if not arguments.no_real:
        r_help_evaluation(arguments.data)


if __name__ == "__main__":
    main()
