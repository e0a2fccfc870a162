"""Initiatives: one per pain point, ranked by a score whose every component the report shows.

    score = basis × (1 + growth) × (1 + dissatisfaction)

- basis: the cost at stake, tickets × cost per ticket (the KPI engine's `cost_per_ticket` for the period); without
  cost data, the tickets themselves. A team-wide cost per ticket scales every pain point alike, so the ranking is
  the same either way; the cost makes the score read as money.
- growth: (tickets − tickets the period before) ÷ tickets the period before, between 0 and 1; a pain point new
  this period counts as 1 (doubled). Capped, so that 1 → 5 tickets does not outrank a steady flood; never below
  0, so a pain point that is shrinking still ranks by its size.
- dissatisfaction: the share of its customer messages scored negative (0 when none is scored).

A steady pain point is ranked by its cost; one that doubled or angers every customer counts twice; both, four
times. docs/reports.md explains the choice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Initiative:
    rank: int
    pain_point: str
    pain_kind: str
    title: str
    tickets: int
    previous_tickets: int
    basis: float  # cost at stake, or tickets without cost data
    basis_is_cost: bool
    growth: float
    dissatisfaction: float
    score: float

    def as_json(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "pain_point": self.pain_point,
            "pain_kind": self.pain_kind,
            "title": self.title,
            "tickets": self.tickets,
            "previous_tickets": self.previous_tickets,
            "basis": self.basis,
            "basis_is_cost": self.basis_is_cost,
            "growth": self.growth,
            "dissatisfaction": self.dissatisfaction,
            "score": self.score,
        }


def growth_component(tickets: int, previous_tickets: int) -> float:
    """The growth in the score: the relative rise over the period before, clamped to 0 … 1 (new: 1)."""
    if tickets <= 0:
        return 0.0
    if previous_tickets <= 0:
        return 1.0
    return min(1.0, max(0.0, (tickets - previous_tickets) / previous_tickets))


def initiative_score(
    tickets: int, previous_tickets: int, negative_share: float | None, cost_per_ticket: float | None
) -> tuple[float, float, float, float]:
    """``(basis, growth, dissatisfaction, score)`` of a pain point (see the module doc)."""
    basis = tickets * cost_per_ticket if cost_per_ticket is not None else float(tickets)
    growth = growth_component(tickets, previous_tickets)
    dissatisfaction = negative_share or 0.0
    return basis, growth, dissatisfaction, basis * (1 + growth) * (1 + dissatisfaction)


def initiative_title(pain_point: str, pain_kind: str) -> str:
    """What the department is asked to do about a pain point, in words."""
    if pain_kind == "category":
        return f"Remove the causes of “{pain_point}” tickets"
    if pain_kind == "keywords":
        return f"Investigate “{pain_point}” (uncategorised tickets)"
    return f"Investigate tickets tagged “{pain_point.removeprefix('tag: ')}”"


def rank_initiatives(
    pain_points: list[tuple[str, str, int, int, float | None]], cost_per_ticket: float | None
) -> list[Initiative]:
    """One initiative per ``(pain point, kind, tickets, previous tickets, negative share)``, highest score first
    (ties: more tickets, then the name)."""
    scored = []
    for name, kind, tickets, previous, negative_share in pain_points:
        basis, growth, dissatisfaction, score = initiative_score(tickets, previous, negative_share, cost_per_ticket)
        scored.append((name, kind, tickets, previous, basis, growth, dissatisfaction, score))
    scored.sort(key=lambda s: (-s[7], -s[2], s[0]))
    return [
        Initiative(
            rank,
            name,
            kind,
            initiative_title(name, kind),
            tickets,
            previous,
            basis,
            cost_per_ticket is not None,
            growth,
            dissatisfaction,
            score,
        )
        for rank, (name, kind, tickets, previous, basis, growth, dissatisfaction, score) in enumerate(scored, start=1)
    ]
