"""Metrics: the KPI catalog, per-ticket facts and the engine that aggregates them."""
