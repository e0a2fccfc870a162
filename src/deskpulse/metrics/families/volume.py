"""Volume: how many tickets came in, and how many still wait for anyone to answer them."""

from __future__ import annotations

from deskpulse.metrics.metric import COUNT, Metric

METRICS = (
    Metric(
        "tickets_created",
        "Tickets created",
        COUNT,
        "neutral",
        "Tickets whose first message falls in the period. Tickets made only of automation (newsletters, "
        "bounces) are left out. Per agent: the agent who sent the first reply.",
        source="tickets",
        bucket="created_at",
        short="Created",
    ),
    Metric(
        "unreplied_tickets",
        "Unreplied tickets",
        COUNT,
        "lower",
        "Open, customer-started tickets created in the period that have no human agent reply yet, as of the "
        "store's newest message; `median_age` and `max_age` give how long they have waited (seconds).",
        source="tickets",
        bucket="created_at",
        population=lambda t: t.awaiting_first_reply,
        ages="unreplied_age",
        short="Unreplied",
    ),
)
