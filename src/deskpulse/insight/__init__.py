"""Insight from the tickets: categories, sentiment, rising issues and bottlenecks (issue 5)."""
