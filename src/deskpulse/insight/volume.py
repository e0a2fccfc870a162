"""The statistics of rising issues on daily ticket counts: a weekday-aware baseline, spikes and sustained rises.

Pure numpy over a small matrix (one row per series, one column per local day), so the same code runs on a
store's counts and on the generated series of `benchmarks/trends_eval.py`. docs/trends.md explains the model;
in short:

* **Baseline.** A day's expected count is the series' recent level (its trailing four weeks, deseasonalised)
  times its weekday factor (that weekday's rate over the trailing sixteen weeks against the series' mean rate,
  shrunk towards the weekday pattern of all series together when the series is small). The windows hold whole
  weeks, so a Monday peak is expected on Mondays and never averaged into Sundays.
* **Robust to past spikes.** Days found to be spikes are replaced by their expected count in the history the
  baseline learns from, so a spike does not raise the bar for the weeks after it. Only short episodes are
  cleaned: a series that stays high for most of a week has changed level, and its history keeps the real counts.
* **Gaps.** Days the data does not cover (`data_gaps`: a week or more without a single ticket where several
  were due) are neither learnt from nor tested.
* **Spikes.** The counts of the last 1, 2, 3 and 5 days against their expected sum, as a negative binomial
  upper tail whose overdispersion is estimated from the series' own past prediction errors (plus half a
  standard error of that estimate; Poisson when there is none). Longer windows catch what no single day shows
  at low volume: 12 tickets in two days where 4 were due.
* **Sustained rises.** Several consecutive whole weeks each above the mean of the weeks before, whose total
  is significantly above it, with the week-to-week variance (and the uncertainty of the baseline) from history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

Counts = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SpikeSettings:
    """How sensitive the spike test is, and how the baseline learns. The defaults are the ones evaluated in
    `benchmarks/trends_eval.py` (recall 0.92 for spikes of 3× lasting two days or more, about 1.3 false alarms
    per 1,000 series-days)."""

    alpha: float = 0.001  # a window is a spike when the chance of so many tickets is below this…
    min_count: int = 5  # …it holds at least this many tickets…
    min_ratio: float = 1.5  # …and at least this many times its expected count
    windows: tuple[int, ...] = (1, 2, 3, 5)  # lengths in days of the windows tested at every day
    weekday_weeks: int = 16  # the weekday pattern comes from this many trailing weeks (as far as there are)…
    history_weeks: int = 8  # …the overdispersion from this many…
    level_weeks: int = 4  # the recent level is the mean of this many trailing weeks
    min_history_weeks: int = 4  # no day is tested before the series has this much history
    weekday_prior: float = 10.0  # tickets of pseudo-count that pull a weekday factor towards the shared pattern
    dispersion_prior: float = 0.05  # overdispersion assumed before the history says otherwise…
    dispersion_prior_weight: float = 100.0  # …worth this much squared expected count of evidence
    dispersion_margin: float = 0.5  # standard errors added to the estimated overdispersion
    max_cleaned_days: int = 4  # flagged days out of the last 7 beyond which a series has changed level


@dataclass(frozen=True)
class RiseSettings:
    """When weeks above the baseline make a sustained rise."""

    weeks: int = 3  # consecutive whole weeks, each above the baseline
    baseline_weeks: int = 8  # the baseline: the mean of this many weeks before them
    alpha: float = 0.001  # the total of those weeks must be this unlikely under the baseline…
    min_ratio: float = 1.25  # …and at least this many times it
    min_count: int = 10  # …and hold at least this many tickets


@dataclass(frozen=True)
class Episode:
    """A run of flagged days (spike) or weeks (rise) of one series: indexes into the scanned matrix, inclusive."""

    series: int
    start: int
    end: int
    observed: int
    expected: float
    p_value: float

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else float("inf")


@dataclass(frozen=True)
class SpikeScan:
    """The result of `scan_spikes`: each day's expected count (NaN before a series is tested), the history the
    baseline learnt from (spikes replaced by their expected count) and the spike episodes."""

    expected: Counts
    cleaned: Counts
    spikes: list[Episode]


def upper_tail(observed: Counts, mean: Counts, variance: Counts) -> Counts:
    """P(X ≥ observed) for a count X with this mean and variance: a negative binomial with those two moments
    when the variance exceeds the mean (overdispersion), else a Poisson."""
    observed, mean = np.asarray(observed, dtype=float), np.asarray(mean, dtype=float)
    variance = np.maximum(np.asarray(variance, dtype=float), mean)
    extra = variance - mean
    poisson = extra <= 1e-9 * mean
    tail = np.empty_like(mean)
    tail[poisson] = stats.poisson.sf(observed[poisson] - 1, mean[poisson])
    over = ~poisson
    size = mean[over] ** 2 / extra[over]
    tail[over] = stats.nbinom.sf(observed[over] - 1, size, mean[over] / variance[over])
    return np.asarray(tail, dtype=float)


def scan_spikes(
    counts: npt.ArrayLike, settings: SpikeSettings = SpikeSettings(), present: npt.ArrayLike | None = None
) -> SpikeScan:
    """Expected counts and spike episodes of every row of ``counts`` (series × consecutive days).

    ``present`` marks the days the data covers (default: all); the others (`data_gaps`) are neither learnt
    from nor tested. Day by day, so that each day's baseline learns only from the days before it, with the
    spikes already found taken out; vectorised across series, so a thousand series cost about what one does.
    """
    observed = np.asarray(counts, dtype=float)
    if observed.ndim != 2:
        raise ValueError("counts must be a matrix: one row per series, one column per day")
    series, days = observed.shape
    covered = np.ones(days, dtype=bool) if present is None else np.asarray(present, dtype=bool)
    cleaned = observed.copy()
    expected = np.full((series, days), np.nan)
    flagged = np.zeros((series, days), dtype=bool)
    lowest_p = np.ones((series, days))
    first_tested = 7 * settings.min_history_weeks
    longest = max(settings.windows)
    for day in range(first_tested, days):
        if not covered[day]:
            continue
        due = _expected_on(cleaned, covered, day, settings)
        if due is None:
            continue
        expected[:, day] = due
        dispersion = _dispersion(cleaned, expected, max(first_tested, day - 7 * settings.history_weeks), day, settings)
        for window in settings.windows:
            start = day - window + 1
            if start >= first_tested:
                _test_window(observed, expected, dispersion, start, day, settings, flagged, lowest_p)
        # Clean the history of the days just flagged, unless the series has been high most of the week.
        recent = flagged[:, max(0, day - 6) : day + 1].sum(axis=1)
        span = slice(max(first_tested, day - longest + 1), day + 1)
        clean = flagged[:, span] & (recent <= settings.max_cleaned_days)[:, None]
        cleaned[:, span] = np.where(clean, np.minimum(observed[:, span], expected[:, span]), cleaned[:, span])
    return SpikeScan(expected, cleaned, _episodes(flagged, observed, expected, lowest_p))


def _expected_on(cleaned: Counts, covered: npt.NDArray[np.bool_], day: int, settings: SpikeSettings) -> Counts | None:
    """Every series' expected count on ``day``: its recent level times its weekday factor, from the covered
    days before it; None when too few of them are covered."""
    series = cleaned.shape[0]
    weeks = min(settings.weekday_weeks, day // 7)
    span = slice(day - 7 * weeks, day)
    seen = covered[span]
    history = np.where(seen, cleaned[:, span], 0.0)
    # Column j of the per-weekday sums holds the days whose weekday is that of `day + j`: the history starts a
    # whole number of weeks back.
    weekday_sums = history.reshape(series, weeks, 7).sum(axis=1)
    weekday_days = seen.reshape(weeks, 7).sum(axis=0)
    if weekday_days.sum() < 7:
        return None
    rate = weekday_sums.sum(axis=1) / weekday_days.sum()
    # A small series' own weekday pattern is mostly noise: it borrows the pattern of all series together (the
    # help desk's week), with the weight of `weekday_prior` tickets.
    pooled = weekday_sums.sum(axis=0)
    pooled_rate = pooled.sum() / weekday_days.sum()
    shared = np.ones(7)
    if pooled_rate > 0:
        shared = np.where(weekday_days > 0, pooled / np.maximum(weekday_days, 1) / pooled_rate, 1.0)
    prior = settings.weekday_prior
    factors = (weekday_sums + prior * shared) / (weekday_days * rate[:, None] + prior)
    # The level: the covered days' counts over what their weekdays would make of a level of 1.
    level_days = 7 * min(settings.level_weeks, day // 7)
    level_seen = covered[day - level_days : day]
    if level_seen.sum() < 7:
        return None
    level_factors = np.tile(factors, level_days // 7)[:, level_seen]
    level = cleaned[:, day - level_days : day][:, level_seen].sum(axis=1) / level_factors.sum(axis=1)
    # A series with no history still expects a little: a first burst of a new category is news, not a division
    # by zero (min_count keeps a single ticket from being news).
    return np.asarray(np.maximum(level * factors[:, 0], 1.0 / level_days), dtype=float)


def _dispersion(cleaned: Counts, expected: Counts, start: int, day: int, settings: SpikeSettings) -> Counts:
    """Each series' overdispersion ``a`` (variance = mean + a·mean²) by the method of moments on its past
    prediction errors, shrunk towards the prior where the history is short or the counts small."""
    tested = np.isfinite(expected[0, start:day])
    seen, due = cleaned[:, start:day][:, tested], expected[:, start:day][:, tested]
    excess = ((seen - due) ** 2 - seen).sum(axis=1)
    weight = (due**2).sum(axis=1)
    prior, prior_weight = settings.dispersion_prior, settings.dispersion_prior_weight
    estimate = np.clip((excess + prior * prior_weight) / (weight + prior_weight), 0.0, 4.0)
    # An estimate from a few weeks is itself uncertain, and too low an estimate makes false alarms: add its
    # standard error (a squared error has about twice the squared variance).
    variance = due + estimate[:, None] * due**2
    error = np.sqrt(2 * (variance**2).sum(axis=1)) / (weight + prior_weight)
    return np.asarray(estimate + settings.dispersion_margin * error, dtype=float)


def _test_window(
    observed: Counts,
    expected: Counts,
    dispersion: Counts,
    start: int,
    end: int,
    settings: SpikeSettings,
    flagged: npt.NDArray[np.bool_],
    lowest_p: Counts,
) -> None:
    """Flag the days start…end (inclusive) of each series whose window total is a spike."""
    seen, due = observed[:, start : end + 1], expected[:, start : end + 1]
    total, mean = seen.sum(axis=1), due.sum(axis=1)
    # Its first and last days above their expectation: a one-day spike yesterday does not make today's two-day
    # window a spike too, nor the quiet day before it.
    above = (seen[:, 0] > due[:, 0]) & (seen[:, -1] > due[:, -1])
    candidate = above & (total >= settings.min_count) & (total >= settings.min_ratio * mean)
    rows = np.flatnonzero(candidate)
    if rows.size == 0:
        return
    variance = mean[rows] + dispersion[rows] * (due[rows] ** 2).sum(axis=1)
    p_values = upper_tail(total[rows], mean[rows], variance)
    hits = rows[p_values < settings.alpha]
    flagged[hits, start : end + 1] = True
    lowest_p[hits, start : end + 1] = np.minimum(
        lowest_p[hits, start : end + 1], p_values[p_values < settings.alpha, None]
    )


def _episodes(flagged: npt.NDArray[np.bool_], observed: Counts, expected: Counts, lowest_p: Counts) -> list[Episode]:
    """Runs of consecutive flagged days per series, with their totals and the smallest p-value inside."""
    found = []
    for row in np.flatnonzero(flagged.any(axis=1)):
        for start, end in runs(flagged[row]):
            found.append(
                Episode(
                    int(row),
                    start,
                    end,
                    int(observed[row, start : end + 1].sum()),
                    float(expected[row, start : end + 1].sum()),
                    float(lowest_p[row, start : end + 1].min()),
                )
            )
    return found


def runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, last) index of each run of True values in a boolean vector."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def data_gaps(total: npt.ArrayLike, min_gap_days: int = 7, min_missed: float = 7.0) -> npt.NDArray[np.bool_]:
    """The days the data covers, from the daily count of all tickets: False on every run of at least
    ``min_gap_days`` days without a single ticket in which the series' mean rate would have brought
    ``min_missed`` tickets or more.

    Seven tickets due and none came has a chance of e⁻⁷ (1 in 1,100): the help desk was closed or the export
    has a hole, and neither is a quiet stretch to learn a baseline from. A small help desk's quiet week (one
    ticket due every other day) is ordinary, and stays.
    """
    counts = np.asarray(total, dtype=float)
    covered = np.ones(counts.size, dtype=bool)
    rate = counts.mean() if counts.size else 0.0
    for start, end in runs(counts == 0):
        length = end - start + 1
        if length >= min_gap_days and length * rate >= min_missed:
            covered[start : end + 1] = False
    return covered


def weekly_totals(daily: npt.ArrayLike, first_weekday: int, present: npt.ArrayLike | None = None) -> tuple[int, Counts]:
    """Sums over whole Monday-to-Sunday weeks: the index of the first Monday, and a (series × weeks) matrix. The
    days before the first Monday and after the last whole week are left out (a partial week is not a week), and
    a week with a day the data does not cover (``present`` False) is NaN."""
    matrix = np.asarray(daily, dtype=float)
    offset = (7 - first_weekday) % 7
    weeks = max(0, (matrix.shape[1] - offset) // 7)
    totals = matrix[:, offset : offset + 7 * weeks].reshape(matrix.shape[0], weeks, 7).sum(axis=2)
    if present is not None:
        covered = np.asarray(present, dtype=bool)[offset : offset + 7 * weeks].reshape(weeks, 7).all(axis=1)
        totals[:, ~covered] = np.nan
    return offset, totals


def scan_rises(observed: Counts, cleaned: Counts, settings: RiseSettings = RiseSettings()) -> list[Episode]:
    """Sustained rises in weekly totals (series × weeks): ``observed`` as counted, ``cleaned`` with past spikes
    taken out (the baseline learns from it); NaN for a week the data does not wholly cover, which is never part
    of a rise. Episode indexes are weeks."""
    series, weeks = observed.shape
    run, base_weeks = settings.weeks, settings.baseline_weeks
    flagged = np.zeros((series, weeks), dtype=bool)
    lowest_p = np.ones((series, weeks))
    baseline_at = np.full((series, weeks), np.nan)
    for week in range(base_weeks + run - 1, weeks):
        first = week - run + 1
        history = cleaned[:, first - base_weeks : first]
        known = int(np.isfinite(history[0]).sum())  # weeks the data covers wholly
        if known < max(2, base_weeks // 2):
            continue
        baseline = np.nanmean(history, axis=1)
        # A week's variance from the weeks before (at least Poisson), plus the uncertainty of their mean.
        week_variance = np.maximum(np.nanvar(history, axis=1, ddof=1), baseline)
        recent = observed[:, first : week + 1]
        total, mean = recent.sum(axis=1), run * baseline
        candidate = (
            (recent > baseline[:, None]).all(axis=1)
            & (total >= settings.min_count)
            & (total >= settings.min_ratio * mean)
        )
        rows = np.flatnonzero(candidate)
        if rows.size == 0:
            continue
        variance = run * week_variance[rows] * (1 + run / known)
        p_values = upper_tail(total[rows], np.maximum(mean[rows], 0.5), variance)
        hits = p_values < settings.alpha
        flagged[rows[hits], first : week + 1] = True
        lowest_p[rows[hits], week] = p_values[hits]
        # The baseline of a rise is the one before it started: kept from its first flagged run.
        fresh = rows[hits][np.isnan(baseline_at[rows[hits], first])]
        baseline_at[fresh, first : week + 1] = baseline[fresh, None]
    found = []
    for row in np.flatnonzero(flagged.any(axis=1)):
        for start, end in runs(flagged[row]):
            base = baseline_at[row, start : end + 1]
            weekly_base = float(base[~np.isnan(base)][0])
            found.append(
                Episode(
                    int(row),
                    start,
                    end,
                    int(observed[row, start : end + 1].sum()),
                    weekly_base * (end - start + 1),
                    float(lowest_p[row, start : end + 1].min()),
                )
            )
    return found
