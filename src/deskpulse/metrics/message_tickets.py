"""The ticket of each message an input file names by Message-ID (survey answers, time entries).

Ticket ids are rebuilt with every import, so a file names a message and the metrics look its ticket up as
threading sees it now. Only the named messages are joined to their threads: joining every message first would
cost a pass over the whole mailbox (39M messages in the 10M-ticket benchmark) for a file of a few thousand lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deskpulse.store import Store


def tickets_of_named_messages(store: Store, table: str) -> Any:
    """``(_message_id, _message_ticket_id)`` for every Message-ID that `table`'s ``message_id`` column names."""
    named = store.table(table).view()
    messages = store.table("messages")
    wanted = messages.filter(messages.message_id.isin(named.filter(named.message_id.notnull()).message_id))
    threads = store.table("message_threads")
    joined = wanted.join(threads, "message_key")
    # A Message-ID is its message's key, so it names one message and one ticket.
    return joined.select(_message_id=joined.message_id, _message_ticket_id=joined.ticket_id)
