"""Responses: how long customers wait for a human agent's reply."""

from __future__ import annotations

from deskpulse.metrics.metric import DURATION, Metric, business

FIRST_RESPONSE_TIME = Metric(
    "first_response_time",
    "First response time",
    DURATION,
    "lower",
    "First customer message → first human agent reply (public, outbound, not automation), once per ticket. "
    "Proactive tickets (started by an agent) are left out. Reported as median, p90 and mean with n; `open` "
    "counts tickets created in the period still waiting for a first reply. Per agent: credited to the agent "
    "who sent the first reply.",
    source="tickets",
    bucket="first_reply_at",
    value="first_response_time",
    open_bucket="created_at",
    open_population=lambda t: t.awaiting_first_reply,
    short="First reply",
)

METRICS = (
    FIRST_RESPONSE_TIME,
    business(FIRST_RESPONSE_TIME, "first_response_time_business"),
)
