"""Resolution: when tickets are resolved, how often they come back, and how many touches it took."""

from __future__ import annotations

from deskpulse.metrics.metric import Metric

METRICS: tuple[Metric, ...] = ()
