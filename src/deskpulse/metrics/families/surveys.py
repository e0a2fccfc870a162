"""(being written this session)"""

from __future__ import annotations

from typing import Any

from deskpulse.metrics.metric import Metric

METRICS: tuple[Metric, ...] = ()
FACT_TABLES: dict[str, Any] = {}
