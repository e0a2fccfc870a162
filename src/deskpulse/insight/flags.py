"""The review queue: tickets flagged for a manager (`ticket_flags`), with the reason for each flag.

A flag is identified by its kind (`sentiment`; SLA risk and others will come) and the message that raised it.
Whoever raises flags of a kind hands `refresh_flags` the complete list of what deserves a flag now: a new one is
added as open, an open one still deserved gets its reason and score refreshed, an open one no longer deserved
goes away (nobody has looked at it, so nothing is lost), and a reviewed one is never touched again except to
follow its message into another ticket after re-threading. Raising the same flags twice therefore changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from deskpulse.columns import arrow_table
from deskpulse.errors import UserError
from deskpulse.schema import TICKET_FLAGS

if TYPE_CHECKING:
    from deskpulse.store import Store

OPEN, REVIEWED = "open", "reviewed"


class FlagError(UserError):
    """A review that names no open flag."""


@dataclass(frozen=True)
class FlagCandidate:
    """A flag that a ticket deserves now."""

    kind: str
    message_key: str
    ticket_id: str
    reason: str
    score: float | None
    raised_at: datetime | None


@dataclass(frozen=True)
class FlagChanges:
    raised: int  # new open flags
    refreshed: int  # open flags still deserved (reason and score brought up to date)
    withdrawn: int  # open flags no longer deserved, removed
    open: int  # open flags of this kind now


def refresh_flags(store: Store, kind: str, candidates: list[FlagCandidate]) -> FlagChanges:
    """Make the open flags of ``kind`` exactly ``candidates``, leaving reviewed flags reviewed."""
    if any(candidate.kind != kind for candidate in candidates):
        raise ValueError(f"every candidate must be of kind {kind!r}")
    rows = arrow_table(
        TICKET_FLAGS,
        {
            "kind": [c.kind for c in candidates],
            "message_key": [c.message_key for c in candidates],
            "ticket_id": [c.ticket_id for c in candidates],
            "reason": [c.reason for c in candidates],
            "score": [c.score for c in candidates],
            "raised_at": [c.raised_at for c in candidates],
            "state": [OPEN] * len(candidates),
            "reviewed_by": [None] * len(candidates),
            "reviewed_at": [None] * len(candidates),
        },
    )
    store.register("flag_candidates", rows)
    store.execute("BEGIN TRANSACTION")
    try:
        [(withdrawn,)] = store.execute(
            "DELETE FROM ticket_flags f WHERE f.kind = ? AND f.state = ? AND NOT EXISTS "
            "(SELECT 1 FROM flag_candidates c WHERE c.message_key = f.message_key)",
            [kind, OPEN],
        )
        [(refreshed,)] = store.execute(
            "UPDATE ticket_flags f SET reason = c.reason, score = c.score, ticket_id = c.ticket_id "
            "FROM flag_candidates c WHERE f.kind = c.kind AND f.message_key = c.message_key AND f.state = ?",
            [OPEN],
        )
        # A reviewed flag keeps its reason and score (what the reviewer saw) but follows its message's ticket.
        store.execute(
            "UPDATE ticket_flags f SET ticket_id = c.ticket_id FROM flag_candidates c "
            "WHERE f.kind = c.kind AND f.message_key = c.message_key AND f.state = ?",
            [REVIEWED],
        )
        raised = store.insert_new("ticket_flags", rows)
        [(still_open,)] = store.execute("SELECT count(*) FROM ticket_flags WHERE kind = ? AND state = ?", [kind, OPEN])
        store.execute("COMMIT")
    except Exception:
        store.execute("ROLLBACK")
        raise
    finally:
        store.execute("DROP TABLE IF EXISTS flag_candidates")
    return FlagChanges(raised, int(refreshed), int(withdrawn), int(still_open))


def review(store: Store, ticket_id: str, reviewer: str, at: datetime | None = None) -> int:
    """Mark every open flag of a ticket reviewed; return how many. A ticket without open flags is an error."""
    at = at or datetime.now(UTC).replace(tzinfo=None)
    [(reviewed,)] = store.execute(
        "UPDATE ticket_flags SET state = ?, reviewed_by = ?, reviewed_at = ? WHERE ticket_id = ? AND state = ?",
        [REVIEWED, reviewer, at, ticket_id, OPEN],
    )
    if not reviewed:
        [(known,)] = store.execute("SELECT count(*) FROM ticket_flags WHERE ticket_id = ?", [ticket_id])
        if known:
            raise FlagError(f"every flag of {ticket_id} is reviewed already (`deskpulse flags --all` lists them)")
        raise FlagError(f"{ticket_id} has no flag; `deskpulse flags` lists the flagged tickets")
    return int(reviewed)


# The columns `list_flags` returns, in order.
FLAG_COLUMNS = (
    "ticket_id",
    "kind",
    "state",
    "score",
    "reason",
    "raised_at",
    "subject",
    "requester",
    "message_key",
    "reviewed_by",
    "reviewed_at",
)


def list_flags(store: Store, *, include_reviewed: bool = False) -> list[dict[str, Any]]:
    """The queue, angriest first (lowest score), then newest: each flag with its ticket's subject and customer."""
    condition = "" if include_reviewed else "WHERE f.state = 'open'"
    columns = ", ".join(f"t.{c}" if c in ("subject", "requester") else f"f.{c}" for c in FLAG_COLUMNS)
    rows = store.execute(
        f"SELECT {columns} FROM ticket_flags f LEFT JOIN tickets t ON t.ticket_id = f.ticket_id {condition} "
        "ORDER BY f.state, f.score NULLS LAST, f.raised_at DESC, f.message_key"
    )
    return [dict(zip(FLAG_COLUMNS, row, strict=True)) for row in rows]
