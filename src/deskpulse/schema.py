"""The canonical tables: one definition of every column, its type and its meaning.

Connectors translate a source into these tables and everything else derives from them. The DDL in the store
and the tables in docs/data-model.md are both generated from the declarations below, so they cannot drift.
All timestamps are UTC, stored without a zone (``TIMESTAMP``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 4


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    primary_key: bool = False


@dataclass(frozen=True)
class TableDef:
    name: str
    description: str
    columns: tuple[Column, ...]
    derived: bool = False  # rebuilt from other tables; never edited by hand

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self) -> Any:
        """The Arrow schema rows for this table are built in before they are written."""
        # Imported here, not at the top: parser processes import this module and never need Arrow.
        import pyarrow as pa

        from deskpulse.columns import arrow_type

        return pa.schema([(c.name, arrow_type(c.type)) for c in self.columns])

    def ddl(self) -> str:
        # Keys are kept unique by the store's anti-join insert, not by an index: DuckDB holds a key index in
        # memory, which on a 200,000-message import costs more than the rows it protects.
        cols = [f"{c.name} {c.type}" for c in self.columns]
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  " + ",\n  ".join(cols) + "\n)"


C = Column

META = TableDef(
    "meta",
    "Key/value facts about the store itself, such as `schema_version`.",
    (C("key", "VARCHAR", "Name of the fact", primary_key=True), C("value", "VARCHAR", "Its value")),
)

MESSAGES = TableDef(
    "messages",
    "One row per distinct message, whatever the source. The event log every metric derives from.",
    (
        C(
            "message_key",
            "VARCHAR",
            "Stable identity: the Message-ID, or `sha1:<hash of the raw bytes>` when the "
            "message has none. Re-importing the same mail finds the same key and adds nothing.",
            primary_key=True,
        ),
        C(
            "message_id",
            "VARCHAR",
            "Normalised Message-ID (no angle brackets); null when the message had none",
        ),
        C("source", "VARCHAR", "Where it was read: the file or folder path, or the connector name"),
        C(
            "source_position",
            "VARCHAR",
            "Its place in the source: `#<n> @<byte offset>` in an mbox, a file name in a Maildir or folder",
        ),
        C("content_hash", "VARCHAR", "SHA-1 of the raw message bytes"),
        C("received_at", "TIMESTAMP", "When the help desk received it (UTC): spec §1.2"),
        C(
            "received_from",
            "VARCHAR",
            "Which evidence gave received_at: `received_header`, `date_header` or `source`",
        ),
        C("date_header_at", "TIMESTAMP", "The sender's Date: header (UTC); null when absent or unparseable"),
        C("from_address", "VARCHAR", "Sender address, lowercased"),
        C("from_name", "VARCHAR", "Sender display name"),
        C("to_addresses", "VARCHAR[]", "To: addresses, lowercased"),
        C("cc_addresses", "VARCHAR[]", "Cc: addresses, lowercased"),
        C(
            "mailbox",
            "VARCHAR",
            "The support address this message was sent to or from; null when none is configured",
        ),
        C(
            "customer_address",
            "VARCHAR",
            "The customer this message involves: its sender when a customer wrote it, "
            "else its first recipient outside the support team",
        ),
        C("subject", "VARCHAR", "Subject, decoded"),
        C("normalized_subject", "VARCHAR", "Subject with Re:/Fwd:/AW:/[list] prefixes removed, casefolded"),
        C("in_reply_to", "VARCHAR", "First Message-ID named by In-Reply-To"),
        C("reference_ids", "VARCHAR[]", "Message-IDs named by References, in order"),
        C("author_role", "VARCHAR", "`customer`, `agent`, `automation` or `system` (spec §1.3)"),
        C(
            "role_reason",
            "VARCHAR",
            "Why that role: e.g. `agent_domain`, `auto-submitted`, `precedence:bulk`, `dsn`",
        ),
        C(
            "is_public",
            "BOOLEAN",
            "False for internal notes: a help desk's own, or agent mail addressed only to the team",
        ),
        C("body_text", "VARCHAR", "The new text of the message: quoted history and signature removed"),
        C("quoted_text", "VARCHAR", "Quoted history, attribution line included"),
        C("signature", "VARCHAR", "Signature block"),
        C("has_html", "BOOLEAN", "The message carried an HTML body"),
        C("attachment_count", "INTEGER", "Number of non-body MIME parts"),
        C("size_bytes", "INTEGER", "Size of the raw message"),
        C("ingested_at", "TIMESTAMP", "When deskpulse stored it (UTC)"),
        C(
            "source_ticket_id",
            "VARCHAR",
            "The ticket a help desk filed this message under (its `source_tickets` ticket_id); null for mail, "
            "which threading places",
        ),
    ),
)

MESSAGE_THREADS = TableDef(
    "message_threads",
    "Which ticket each message belongs to and what it replies to, rebuilt by threading after every import. "
    "Kept apart from `messages`, so the event log itself is written once and never rewritten.",
    (
        C("message_key", "VARCHAR", "The message", primary_key=True),
        C("ticket_id", "VARCHAR", "The ticket (reconstructed conversation) it belongs to"),
        C("parent_key", "VARCHAR", "message_key of the message it replies to; null for a ticket's first message"),
        C("thread_link", "VARCHAR", "How it joined its ticket: `root`, `reference` (Message-ID headers) or `subject`"),
    ),
    derived=True,
)

TICKETS = TableDef(
    "tickets",
    "One row per reconstructed conversation, rebuilt from `messages` after every import.",
    (
        C(
            "ticket_id",
            "VARCHAR",
            "`T-` and 12 hex digits of the SHA-1 of the root message_key: stable across re-imports",
            primary_key=True,
        ),
        C("root_message_key", "VARCHAR", "The ticket's first message"),
        C("subject", "VARCHAR", "Subject of the first message"),
        C("requester", "VARCHAR", "The customer address of the ticket"),
        C("mailbox", "VARCHAR", "Support address the ticket came through"),
        C("channel", "VARCHAR", "`email`, or the channel a help desk export reports"),
        C("created_at", "TIMESTAMP", "received_at of the first message"),
        C("updated_at", "TIMESTAMP", "received_at of the latest message"),
        C("message_count", "INTEGER", "Messages in the ticket, automation included"),
        C("is_proactive", "BOOLEAN", "The first human message came from an agent (spec §1.7)"),
        C(
            "status",
            "VARCHAR",
            "`open`, `pending`, `on_hold` or `resolved`: the latest status change (inferred for mailboxes, spec §1.6)",
        ),
        C("resolved_at", "TIMESTAMP", "Latest resolution; null while open"),
        C(
            "resolution_inferred",
            "BOOLEAN",
            "True when resolved_at was inferred from inactivity, not read from a source",
        ),
        C("priority", "VARCHAR", "Priority when the source has one"),
        C("category", "VARCHAR", "Hierarchical category such as `Billing > Refund Request`"),
        C(
            "category_source",
            "VARCHAR",
            "Where the category came from: `source` (the help desk), `label` (a person), `folder` or `gmail` (what a "
            "folder or label means), or the classification's method: `rule`, `model`, `none`",
        ),
        C(
            "organisation",
            "VARCHAR",
            "The customer's organisation: the source's own, else the domain of the requester's address",
        ),
        C("assignee", "VARCHAR", "Agent currently assigned (source) or the agent of the latest human reply"),
        C("merged_into", "VARCHAR", "ticket_id this ticket was merged into; it then counts nowhere"),
        C(
            "excluded_reason",
            "VARCHAR",
            "Why metrics leave it out (`automation_only`, `spam`, `merged`, …); null when it counts",
        ),
    ),
    derived=True,
)

TICKET_EVENTS = TableDef(
    "ticket_events",
    "Changes to a ticket over time: status, assignment, priority, tags. Mailboxes yield inferred resolutions and "
    "reopens; help desk exports yield their audit history.",
    (
        C("event_id", "VARCHAR", "Stable identity of the event", primary_key=True),
        C("ticket_id", "VARCHAR", "The ticket"),
        C("occurred_at", "TIMESTAMP", "When it happened (UTC)"),
        C("kind", "VARCHAR", "`status`, `assignee`, `group`, `priority`, `tag`, `reopen`, …"),
        C("actor", "VARCHAR", "Who made the change, when known"),
        C("old_value", "VARCHAR", "Value before"),
        C("new_value", "VARCHAR", "Value after"),
        C("inferred", "BOOLEAN", "True when deskpulse inferred the event rather than reading it"),
        C("source", "VARCHAR", "Where the event came from"),
    ),
)

SOURCE_TICKETS = TableDef(
    "source_tickets",
    "Tickets as a help desk or a CSV export records them, one row per ticket. Their messages name them in "
    "`messages.source_ticket_id` instead of being threaded; what a row says here (status, priority, category, "
    "assignee, merges) wins over what deskpulse would infer from the messages.",
    (
        C("ticket_id", "VARCHAR", "deskpulse's id for it: `<source>-<the source's own id>`, e.g. `zendesk-4213`", True),
        C("source", "VARCHAR", "The connector that read it: `zendesk`, `freshdesk`, `helpscout`, `csv`, …"),
        C("external_id", "VARCHAR", "The source's own id of the ticket"),
        C("subject", "VARCHAR", "Subject"),
        C("requester", "VARCHAR", "The customer: e-mail address when known, else the source's user id"),
        C("mailbox", "VARCHAR", "Support address, brand or inbox the ticket came through"),
        C("channel", "VARCHAR", "`email`, `web`, `chat`, `phone`, `api`, … as the source reports it"),
        C("created_at", "TIMESTAMP", "When the source created it (UTC)"),
        C("updated_at", "TIMESTAMP", "Last update the source reports (UTC)"),
        C("status", "VARCHAR", "Canonical status: `open`, `pending`, `on_hold` or `resolved` (solved and closed)"),
        C("source_status", "VARCHAR", "The status in the source's own words"),
        C("resolved_at", "TIMESTAMP", "Latest resolution the source reports; null while open or when it does not say"),
        C("priority", "VARCHAR", "Priority"),
        C("category", "VARCHAR", "Category, hierarchical as `Top > Sub` when the source has levels"),
        C("organisation", "VARCHAR", "The customer's organisation"),
        C("assignee", "VARCHAR", "Assigned agent (address when known)"),
        C("group_name", "VARCHAR", "Assigned group or queue"),
        C(
            "merged_into",
            "VARCHAR",
            "ticket_id of the ticket this one was merged into: it counts nowhere and its messages join that one",
        ),
        C("excluded_reason", "VARCHAR", "`spam`, `deleted`, `test`, … when the source marks it so; else null"),
        C("ingested_at", "TIMESTAMP", "When deskpulse stored it (UTC)"),
    ),
)

TICKET_TAGS = TableDef(
    "ticket_tags",
    "Tags on tickets, one row per ticket and tag: a help desk's own tags, or the tags rules give mail.",
    (
        C("ticket_id", "VARCHAR", "The ticket", primary_key=True),
        C("tag", "VARCHAR", "The tag, as the source spells it", primary_key=True),
        C("source", "VARCHAR", "Where the tag came from"),
    ),
)

MESSAGE_LABELS = TableDef(
    "message_labels",
    "Where a source filed each message: the IMAP folder it was found in, a Gmail export's labels. One row per "
    "message, label and source, kept for every copy read (a message already stored from INBOX and found again in a "
    "`Done` folder gains the label `Done`). `[labels]` in deskpulse.toml says which labels mean resolved, a "
    "category or a priority (`deskpulse.labels`).",
    (
        C("message_key", "VARCHAR", "The message", primary_key=True),
        C("label", "VARCHAR", "The folder or label as the source spells it (`INBOX`, `Done`, `Support/Billing`)", True),
        C("source", "VARCHAR", "`folder` (an IMAP folder) or `gmail` (X-Gmail-Labels of a Takeout mbox)", True),
        C("observed_at", "TIMESTAMP", "When deskpulse first read the message with this label (UTC)"),
    ),
)

AGENTS = TableDef(
    "agents",
    "Support staff: from the config, from mail they sent, or from a help desk's user list.",
    (
        C("address", "VARCHAR", "E-mail address, lowercased", primary_key=True),
        C("name", "VARCHAR", "Display name"),
        C("team", "VARCHAR", "Team, when known"),
        C("active", "BOOLEAN", "Still on the team"),
        C("source", "VARCHAR", "`mail`, `config` or the connector"),
    ),
)

SURVEYS = TableDef(
    "surveys",
    "Survey invitations and answers (CSAT 1–5 or good/bad, CES 1–7, NPS 0–10), one row per invitation or answer: "
    "a survey answered twice has two rows, and metrics take the latest answer per ticket.",
    (
        C(
            "survey_id",
            "VARCHAR",
            "Stable identity: the survey's own id (else a hash of ticket, kind and send time), plus "
            "`@<answered_at>` on an answer",
            primary_key=True,
        ),
        C("ticket_id", "VARCHAR", "The ticket asked about; null when the survey names a message instead"),
        C(
            "message_id",
            "VARCHAR",
            "A message of the ticket asked about (normalised Message-ID) when no ticket_id is given; resolved to "
            "its ticket when metrics are computed, since ticket ids follow threading",
        ),
        C("kind", "VARCHAR", "`csat`, `ces` or `nps`"),
        C(
            "scale",
            "VARCHAR",
            "`1-5` or `good-bad` (csat: good is stored as 5, bad as 1) or `good-okay-bad` (Help Scout's and "
            "Freshdesk's ratings: 5, 3, 1), `1-7` (ces), `0-10` (nps)",
        ),
        C("agent", "VARCHAR", "Agent assigned when the survey went out"),
        C("sent_at", "TIMESTAMP", "When it was sent; null when the source does not say"),
        C("delivered", "BOOLEAN", "False when it bounced"),
        C("answered_at", "TIMESTAMP", "When this answer came; null on an invitation not (yet) answered"),
        C("score", "INTEGER", "The answer on its `scale`; null when unanswered"),
        C("comment", "VARCHAR", "Free-text comment"),
        C("source", "VARCHAR", "`deskpulse` or the connector"),
    ),
)

TIME_ENTRIES = TableDef(
    "time_entries",
    "Tracked work on tickets: the only source of handle time (spec §3).",
    (
        C(
            "entry_id",
            "VARCHAR",
            "Stable identity: the file's own id, else `sha1:<hash of the line's content>`",
            primary_key=True,
        ),
        C("ticket_id", "VARCHAR", "The ticket worked on; null when the entry names a message instead"),
        C(
            "message_id",
            "VARCHAR",
            "A message of the ticket worked on (normalised Message-ID) when no ticket_id is given; resolved to "
            "its ticket when metrics are computed, since ticket ids follow threading",
        ),
        C("agent", "VARCHAR", "Who worked (e-mail address, lowercased)"),
        C("started_at", "TIMESTAMP", "When the work started (UTC)"),
        C("seconds", "BIGINT", "How long"),
        C("billable", "BOOLEAN", "Billable work"),
        C("source", "VARCHAR", "Where the entry came from"),
    ),
)

QUARANTINE = TableDef(
    "quarantine",
    "Input that could not be stored as it was. `action = rejected`: not stored at all; `action = repaired`: stored "
    "with a repair (a synthetic key for a missing Message-ID, replaced undecodable bytes…). Nothing is dropped "
    "silently.",
    (
        C("source", "VARCHAR", "The file or folder", primary_key=True),
        C("source_position", "VARCHAR", "Where in the source", primary_key=True),
        C("content_hash", "VARCHAR", "SHA-1 of the raw bytes", primary_key=True),
        C(
            "reason",
            "VARCHAR",
            "Short machine-readable reason, e.g. `not_a_message`, `missing_message_id`",
            primary_key=True,
        ),
        C("action", "VARCHAR", "`rejected` or `repaired`"),
        C("detail", "VARCHAR", "Human-readable explanation"),
        C("message_key", "VARCHAR", "The stored message when repaired"),
        C("excerpt", "VARCHAR", "The first 300 bytes, decoded with replacement, to help find it"),
        C("size_bytes", "INTEGER", "Size of the raw input"),
        C("recorded_at", "TIMESTAMP", "When it was recorded (UTC)"),
    ),
)

INGEST_RUNS = TableDef(
    "ingest_runs",
    "One row per import, with the counts its summary printed.",
    (
        C("run_id", "VARCHAR", "Identity of the run", primary_key=True),
        C("started_at", "TIMESTAMP", "Start (UTC)"),
        C("finished_at", "TIMESTAMP", "End (UTC)"),
        C("sources", "VARCHAR", "Paths read, comma separated"),
        C("messages_read", "BIGINT", "Messages read from the sources"),
        C("messages_stored", "BIGINT", "New messages stored"),
        C("duplicates", "BIGINT", "Messages already in the store (same message_key)"),
        C("quarantined", "BIGINT", "Messages rejected into quarantine"),
        C("repaired", "BIGINT", "Messages stored with a repair"),
    ),
)

MESSAGE_SENTIMENT = TableDef(
    "message_sentiment",
    "The sentiment of each customer message's new text (quoted history and signature left out), written by "
    "`deskpulse sentiment score`. A ticket's sentiment is computed from these rows (docs/sentiment.md).",
    (
        C("message_key", "VARCHAR", "The customer message", primary_key=True),
        C("score", "DOUBLE", "From −1 (furious) to 1 (delighted)"),
        C("label", "VARCHAR", "`negative`, `neutral` or `positive`"),
        C("reasons", "VARCHAR[]", "Why, strongest first, e.g. `chargeback threat: 'file a chargeback'`"),
        C("signals", "VARCHAR[]", "Support signals found: `chargeback`, `legal`, `churn`, `repeat_contact`, …"),
        C(
            "method",
            "VARCHAR",
            "What scored it: `rules@<hash of the lexicon>` or `model@<hash of the trained model>`; a message scored "
            "by anything else than the current method is scored again",
        ),
        C("scored_at", "TIMESTAMP", "When it was scored (UTC)"),
    ),
)

TICKET_FLAGS = TableDef(
    "ticket_flags",
    "The review queue (`deskpulse flags`): tickets a manager should look at, one row per kind of flag and the "
    "message that raised it. Raising flags again adds no duplicate; an open flag whose reason no longer holds "
    "goes away, a reviewed one stays reviewed.",
    (
        C("kind", "VARCHAR", "`sentiment` (more kinds, such as SLA risk, will come)", primary_key=True),
        C("message_key", "VARCHAR", "The message that raised it", primary_key=True),
        C("ticket_id", "VARCHAR", "The ticket that message belongs to"),
        C("reason", "VARCHAR", "Why, in words, e.g. `getting worse: +0.42 → −0.71 over 3 customer messages`"),
        C("score", "DOUBLE", "The ticket's sentiment when the flag was raised or last refreshed"),
        C("raised_at", "TIMESTAMP", "When the message that raised it was received (UTC)"),
        C("state", "VARCHAR", "`open` or `reviewed`"),
        C("reviewed_by", "VARCHAR", "Who reviewed it"),
        C("reviewed_at", "TIMESTAMP", "When it was reviewed (UTC)"),
    ),
)

SYNC_CHECKPOINTS = TableDef(
    "sync_checkpoints",
    "How far a live sync has stored each folder: the next sync fetches only UIDs above `last_uid`, and only while "
    "the server's UIDVALIDITY is still `uidvalidity` (else the folder is read again; stored messages are skipped "
    "as duplicates). Advanced after each stored batch, so an interrupted sync resumes where it stopped.",
    (
        C("source", "VARCHAR", "The account: `imap://user@host:port`", primary_key=True),
        C("folder", "VARCHAR", "The folder, as configured", primary_key=True),
        C("uidvalidity", "BIGINT", "The folder's UIDVALIDITY when last_uid was stored"),
        C("last_uid", "BIGINT", "Every message up to this UID is stored (or quarantined); 0 before the first"),
        C("synced_at", "TIMESTAMP", "When a sync last advanced or confirmed this checkpoint (UTC)"),
        C(
            "cursor",
            "VARCHAR",
            "For a help desk API (source `zendesk://<host>`, folder the stream: `tickets`, `ticket_events`, …): "
            "the position its incremental export returned after the last stored page; null for IMAP",
        ),
    ),
)

SOURCE_USERS = TableDef(
    "source_users",
    "The people a help desk names by its own ids (requesters, agents, authors of comments and changes), as its "
    "user list last said: a later read that names only the id (a comment fetched today by a user fetched last "
    "week) finds the address and the role here.",
    (
        C("source", "VARCHAR", "The connector: `zendesk`, …", primary_key=True),
        C("user_id", "VARCHAR", "The source's own id of the user", primary_key=True),
        C("address", "VARCHAR", "E-mail address, lowercased; null when the source has none"),
        C("name", "VARCHAR", "Display name"),
        C("role", "VARCHAR", "`customer` or `agent` (the source's end-user, agent or admin)"),
        C("active", "BOOLEAN", "False when the source says the user was deleted or suspended"),
    ),
)

CATEGORY_LABELS = TableDef(
    "category_labels",
    "Categories people gave tickets by hand (`deskpulse categorize train --labels FILE`): the training data of the "
    "category model, beside the categories a help desk set. A newer label for the same ticket replaces the older.",
    (
        C("ticket_id", "VARCHAR", "The ticket labelled; null when the label names a message instead", True),
        C(
            "message_id",
            "VARCHAR",
            "A message of the ticket (normalised Message-ID) when no ticket_id is given; resolved to its ticket when "
            "the model is trained, since ticket ids follow threading",
            True,
        ),
        C("category", "VARCHAR", "The category, `Top > Sub`, spelled as in the taxonomy file when there is one"),
        C("labelled_at", "TIMESTAMP", "When the label was loaded (UTC)"),
        C("source", "VARCHAR", "The file it came from"),
    ),
)

TICKET_CATEGORIES = TableDef(
    "ticket_categories",
    "The category of every ticket and how it was found (`deskpulse categorize apply`): the help desk's own, a "
    "manual label, a taxonomy rule or the model. `tickets.category` is filled from it.",
    (
        C("ticket_id", "VARCHAR", "The ticket", primary_key=True),
        C("category", "VARCHAR", "`Top > Sub`, only `Top` when the model is unsure of the sub, or `Unclassified`"),
        C("confidence", "DOUBLE", "1 for source, label and rule; else the model's confidence in the level kept"),
        C("method", "VARCHAR", "`source`, `label`, `rule`, `model`, or `none` (no rule matched and no model)"),
        C("method_detail", "VARCHAR", "The rule that matched (`Billing > Refund: keyword 'refund'`) or the model id"),
        C("suggestion", "VARCHAR", "The model's best guess at every level, also when below the threshold"),
        C("needs_review", "BOOLEAN", "The model was below the threshold at some level: queued for `categorize review`"),
        C("classified_at", "TIMESTAMP", "When it was classified (UTC)"),
    ),
    derived=True,
)

CATEGORY_RUNS = TableDef(
    "category_runs",
    "Every ticket's category as each `deskpulse categorize apply` run found it, kept run after run (the current "
    "state is `ticket_categories`), so that a run with a better model can be compared with the last "
    "(`deskpulse categorize compare`).",
    (
        C("run_id", "BIGINT", "The run: 1 for the store's first `categorize apply`, then 2, 3, …", primary_key=True),
        C("ticket_id", "VARCHAR", "The ticket", primary_key=True),
        C("category", "VARCHAR", "The category the run gave it (as `ticket_categories.category`)"),
        C("confidence", "DOUBLE", "Its confidence (as `ticket_categories.confidence`)"),
        C("method", "VARCHAR", "`source`, `label`, `rule`, `model` or `none`"),
        C("model", "VARCHAR", "The id of the model the run used (`tfidf@<hash>`); null when it had none"),
        C("classified_at", "TIMESTAMP", "When the run classified it (UTC); the same for every row of a run"),
    ),
)

SENTIMENT_RUNS = TableDef(
    "sentiment_runs",
    "The score of each customer message as each `deskpulse sentiment score` run gave it, kept run after run (the "
    "current state is `message_sentiment`), so that a run with another method can be compared with the last "
    "(`deskpulse sentiment compare`). A run holds only the messages it scored.",
    (
        C(
            "run_id",
            "BIGINT",
            "The run: 1 for the store's first `sentiment score` that scored anything, then 2, …",
            True,
        ),
        C("message_key", "VARCHAR", "The customer message", primary_key=True),
        C("score", "DOUBLE", "From −1 to 1 (as `message_sentiment.score`)"),
        C("label", "VARCHAR", "`negative`, `neutral` or `positive`"),
        C("method", "VARCHAR", "`rules@<hash>` or `model@<hash>`"),
        C("scored_at", "TIMESTAMP", "When the run scored it (UTC); the same for every row of a run"),
    ),
)

TABLES: tuple[TableDef, ...] = (
    META,
    MESSAGES,
    MESSAGE_THREADS,
    TICKETS,
    SOURCE_TICKETS,
    TICKET_EVENTS,
    TICKET_TAGS,
    MESSAGE_LABELS,
    AGENTS,
    SURVEYS,
    TIME_ENTRIES,
    QUARANTINE,
    INGEST_RUNS,
    SYNC_CHECKPOINTS,
    SOURCE_USERS,
    MESSAGE_SENTIMENT,
    TICKET_FLAGS,
    CATEGORY_LABELS,
    TICKET_CATEGORIES,
    CATEGORY_RUNS,
    SENTIMENT_RUNS,
)


def data_model_markdown() -> str:
    """The body of docs/data-model.md."""
    lines = [
        "# Data model",
        "",
        "<!-- generated by `python -m deskpulse.schema`; edit src/deskpulse/schema.py instead -->",
        "",
        f"Schema version {SCHEMA_VERSION}. All timestamps are UTC without a zone; reports convert to the "
        "configured reporting timezone. Derived tables are rebuilt from the event log after every import.",
        "",
    ]
    for table in TABLES:
        lines += [f"## `{table.name}`" + (" (derived)" if table.derived else ""), "", table.description, ""]
        lines += ["| column | type | meaning |", "| --- | --- | --- |"]
        for col in table.columns:
            key = " (key)" if col.primary_key else ""
            lines.append(f"| `{col.name}`{key} | {col.type} | {col.description} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(data_model_markdown())
