"""Bring the tickets up to date after a sync stored new mail, recomputing only the tickets that mail touches.

A full rebuild (`deskpulse.tickets.rebuild_tickets`) re-threads every stored message: a minute for four million
messages, most of it in Python. A live mailbox (`deskpulse watch`) adds a few messages a minute, so each sync
instead finds the tickets the new mail can reach and re-threads only those:

- **Touched messages** start as the mail no ticket holds yet (no `message_threads` row). Whole tickets join them
  when one of their messages shares a Message-ID with the touched ones (its own id, In-Reply-To or References: a
  reply, a late parent, a duplicate or a shared missing ancestor) or a subject and customer (the subject fallback
  of `deskpulse.mail.threading`). Repeated until nothing joins, the set is closed under every link the threader
  follows, so threading it alone gives what threading the whole store gives: its messages link to nothing
  outside it.
- **Recomputed tickets** are the touched tickets, before and after (a late parent moves a ticket's root, so its id
  changes), and the tickets the horizon's move can resolve: a ticket is resolved once its last reply is
  `resolution.inactivity_days` old at the horizon (the newest instant the store knows), so tickets with an agent
  message in the days the horizon crossed are judged again. Their status events and `tickets` rows are replaced;
  every other ticket's rows stay as they are.
- Tickets whose mail was found under a new folder or Gmail label since the last build are recomputed too: a
  message moved to a `Done` folder resolves its ticket without any new mail.
- **Then as after every import:** agents and label tags are re-read. The derived fact tables (per-ticket facts,
  wait cycles, waits, resolution events, inferred handoffs) get new rows for the recomputed tickets only
  (`deskpulse.metrics.facts.update_derived_facts`): no stored row depends on the horizon.

The result is the same as a full rebuild's; `tests/test_touched.py` checks that on real mail arriving in pieces
and out of order. A settings change needs the full rebuild (`deskpulse rebuild`): the first sync after one, or
after a store built by an older deskpulse, rebuilds everything by itself.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from deskpulse.config import Config
from deskpulse.mail.threading import thread_messages
from deskpulse.schema import TICKETS
from deskpulse.status import DERIVED_SOURCES, write_inferred_events
from deskpulse.store import Store
from deskpulse.tickets import (
    _label_effects,
    _rebuild_agents,
    _store_label_tags,
    _thread_inputs,
    _ticket_rows,
    merge_targets,
    rebuild_derived_facts,
    rebuild_tickets,
    thread_rows,
    threaded_messages,
)

BUILT_KEY = "tickets_built"  # meta: the horizon and settings the tickets were last built with


def update_tickets(store: Store, config: Config) -> int:
    """Bring `message_threads`, the status events and `tickets` up to date with the mail stored since the last
    build, touching only the tickets it reaches; return the ticket count. Falls back to the full rebuild when the
    store was never built with these settings, or when a help desk's tickets changed (their own history decides
    them, so a connector rebuilds them whole)."""
    from deskpulse.metrics.facts import store_span  # the metrics import this module

    built = built_state(store)
    if built is None or built["settings"] != _settings(config) or _unfiled_source_messages(store):
        return rebuild_tickets(store, config)
    previous_horizon = datetime.fromisoformat(str(built["horizon"])) if built["horizon"] else None
    built_at = datetime.fromisoformat(str(built["built_at"]))
    # Until this update ends, the store is not built: were it interrupted half way, its threads would hold the new
    # mail while its tickets do not, and only the full rebuild of the next sync would notice.
    forget_built(store)
    _rethread_touched(store, config)
    horizon = store_span(store)[1]
    _recomputed_tickets(store, config, previous_horizon, horizon, built_at)
    labels = _label_effects(store, config)
    recomputed = store.ibis.table("recomputed_tickets")
    messages = threaded_messages(store).semi_join(recomputed, "ticket_id")
    derived_sources = ", ".join(f"'{source}'" for source in DERIVED_SOURCES)
    store.execute(
        f"DELETE FROM ticket_events WHERE source IN ({derived_sources}) "
        "AND ticket_id IN (SELECT ticket_id FROM recomputed_tickets)"
    )
    write_inferred_events(store, config, messages, horizon, labels.resolutions, only=recomputed)
    _store_label_tags(store, labels.tags)
    rows = _ticket_rows(store, messages, horizon, labels, only=recomputed)
    store.execute("DELETE FROM tickets WHERE ticket_id IN (SELECT ticket_id FROM recomputed_tickets)")
    store.append("tickets", rows.select(TICKETS.column_names))
    _rebuild_agents(store, config)
    patched = _update_derived_facts(store, config)
    [(recomputed_count,)] = store.execute("SELECT count(*) FROM recomputed_tickets")
    mark_built(store, config, horizon, recomputed=int(recomputed_count), derived_patched=patched)
    return store.count("tickets")


def _update_derived_facts(store: Store, config: Config) -> bool:
    """The derived fact tables: only the recomputed tickets' rows, when the stale tables were built with these
    settings (`update_derived_facts`: True); else all of them (False)."""
    from deskpulse.metrics.facts import update_derived_facts  # the metrics import this module

    with store.single_thread():
        patched = update_derived_facts(store, config, "recomputed_tickets")
    if not patched:
        rebuild_derived_facts(store, config)
    return patched


def built_state(store: Store) -> dict[str, object] | None:
    rows = store.execute("SELECT value FROM meta WHERE key = ?", [BUILT_KEY])
    return json.loads(rows[0][0]) if rows else None


def forget_built(store: Store) -> None:
    """The next update rebuilds everything: a help desk's records changed, which only the full rebuild follows."""
    store.execute("DELETE FROM meta WHERE key = ?", [BUILT_KEY])


def mark_built(
    store: Store,
    config: Config,
    horizon: datetime | None,
    *,
    recomputed: int | None = None,
    derived_patched: bool = False,
) -> None:
    """Record what the tickets were built with (the next update judges from this horizon on) and how: every
    ticket (``recomputed`` None) or that many, with the derived fact tables patched or built whole."""
    state = {
        "horizon": None if horizon is None else horizon.isoformat(),
        "built_at": datetime.now(UTC).replace(tzinfo=None).isoformat(),
        "settings": _settings(config),
        "recomputed": recomputed,
        "derived_patched": derived_patched,
    }
    store.execute("DELETE FROM meta WHERE key = ?", [BUILT_KEY])
    store.execute("INSERT INTO meta VALUES (?, ?)", [BUILT_KEY, json.dumps(state)])


def _settings(config: Config) -> list[int]:
    """The settings threading and status inference depend on (JSON-comparable)."""
    return [config.threading.subject_window_days, config.resolution.inactivity_days]


def _unfiled_source_messages(store: Store) -> bool:
    """Whether a help desk's messages arrived since the last build (they belong to the connectors' full rebuild)."""
    rows = store.execute(
        "SELECT 1 FROM messages m WHERE m.source_ticket_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM message_threads t WHERE t.message_key = m.message_key) LIMIT 1"
    )
    return bool(rows)


def _rethread_touched(store: Store, config: Config) -> None:
    """Find the touched messages (module doc), thread them and replace their `message_threads` rows; the ids of
    the tickets they were in before stay in the temporary table `touched_old_tickets`."""
    store.execute(
        """
        CREATE OR REPLACE TEMP TABLE touched_messages AS
        SELECT m.message_key FROM messages m
        WHERE m.source_ticket_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM message_threads t WHERE t.message_key = m.message_key)
        """
    )
    store.execute("CREATE OR REPLACE TEMP TABLE touched_old_tickets (ticket_id VARCHAR)")
    while True:
        store.execute(
            """
            CREATE OR REPLACE TEMP TABLE touched_ids AS
            SELECT DISTINCT id FROM (
                SELECT m.message_id AS id FROM messages m SEMI JOIN touched_messages USING (message_key)
                UNION ALL SELECT m.in_reply_to FROM messages m SEMI JOIN touched_messages USING (message_key)
                UNION ALL SELECT unnest(m.reference_ids) FROM messages m SEMI JOIN touched_messages USING (message_key)
            ) WHERE id IS NOT NULL
            """
        )
        store.execute(
            """
            CREATE OR REPLACE TEMP TABLE touched_subjects AS
            SELECT DISTINCT m.normalized_subject, m.customer_address
            FROM messages m SEMI JOIN touched_messages USING (message_key)
            WHERE m.normalized_subject <> '' AND m.customer_address IS NOT NULL
            """
        )
        [(joined,)] = store.execute(
            """
            INSERT INTO touched_old_tickets
            WITH mail AS (
                SELECT m.message_key, m.message_id, m.in_reply_to, m.reference_ids, m.normalized_subject,
                       m.customer_address, t.ticket_id
                FROM messages m JOIN message_threads t USING (message_key)
                WHERE m.source_ticket_id IS NULL
            ),
            linked AS (
                SELECT ticket_id FROM mail SEMI JOIN touched_ids ON mail.message_id = touched_ids.id
                UNION SELECT ticket_id FROM mail SEMI JOIN touched_ids ON mail.in_reply_to = touched_ids.id
                UNION SELECT ticket_id FROM (SELECT ticket_id, unnest(reference_ids) AS id FROM mail) r
                      SEMI JOIN touched_ids USING (id)
                UNION SELECT ticket_id FROM mail
                      SEMI JOIN touched_subjects USING (normalized_subject, customer_address)
            )
            SELECT ticket_id FROM linked
            WHERE ticket_id NOT IN (SELECT ticket_id FROM touched_old_tickets)
            """
        )
        if not joined:
            break
        store.execute(
            """
            INSERT INTO touched_messages
            SELECT t.message_key FROM message_threads t
            WHERE t.ticket_id IN (SELECT ticket_id FROM touched_old_tickets)
              AND t.message_key NOT IN (SELECT message_key FROM touched_messages)
              AND t.thread_link <> 'source'
            """
        )
    inputs = _thread_inputs(store, where="message_key IN (SELECT message_key FROM touched_messages)")
    table = thread_rows(thread_messages(inputs, config.subject_window), merge_targets(store))
    store.execute("DELETE FROM message_threads WHERE message_key IN (SELECT message_key FROM touched_messages)")
    store.append("message_threads", table)


def _recomputed_tickets(
    store: Store, config: Config, previous: datetime | None, horizon: datetime | None, built_at: datetime
) -> None:
    """The temporary table `recomputed_tickets`: the touched tickets before and after threading, those whose mail
    was found under a new folder or label since ``built_at`` (a message moved to `Done`), and those the horizon's
    move from ``previous`` to ``horizon`` can resolve (module doc)."""
    quiet = timedelta(days=config.resolution.inactivity_days)
    crossed = ""
    parameters: list[object] = [built_at]
    if previous is not None and horizon is not None and horizon > previous:
        crossed = """
            UNION SELECT t.ticket_id FROM messages m JOIN message_threads t USING (message_key)
            WHERE m.author_role = 'agent' AND m.received_at >= ? AND m.received_at <= ?
        """
        parameters += [previous - quiet, horizon - quiet]
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE recomputed_tickets AS
        SELECT ticket_id FROM touched_old_tickets
        UNION SELECT t.ticket_id FROM message_threads t SEMI JOIN touched_messages USING (message_key)
        UNION SELECT t.ticket_id FROM message_threads t
              SEMI JOIN (SELECT message_key FROM message_labels WHERE observed_at >= ?) USING (message_key)
        {crossed}
        """,
        parameters,
    )
