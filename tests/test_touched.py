"""A live sync recomputes only the tickets new mail touches (`deskpulse.touched`), and ends where a full rebuild of
the same mail ends.

Two months of the real R-help archive (January and February 2019) arrive in five pieces in the archive's order,
so the horizon moves with each piece and tickets whose last reply it leaves behind become resolved. Every fourth
message arrives one piece late, so replies often come before the message they answer: a late parent moves a
ticket's root, and so its id. The five most frequent senders are the agents, so tickets get replies, inferred
resolutions and reopens. A sixth piece finds 40 stored messages again in a `Done` folder, which resolves their
tickets without any new mail. After every piece the store is updated with `touched_only`; at the end its tickets,
threads and status events must equal those of a store that read everything at once and rebuilt in full.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from deskpulse.config import Config, parse_config
from deskpulse.ingest import ingest_messages, rebuild_if_pending
from deskpulse.sources.mailbox import RawMessage, read_messages
from deskpulse.store import Store
from deskpulse.touched import built_state

pytestmark = pytest.mark.slow

MONTHS = ("2019-January.txt", "2019-February.txt")
PIECES = 5
DONE_COPIES = 40
COMPARED = {
    "tickets": "SELECT * FROM tickets ORDER BY ticket_id",
    "message_threads": "SELECT * FROM message_threads ORDER BY message_key",
    "ticket_events": "SELECT * FROM ticket_events ORDER BY event_id",
    "facts": "SELECT * FROM derived_ticket_facts ORDER BY ticket_id",
    "cycles": "SELECT * FROM derived_cycles ORDER BY ticket_id, cycle_number",
    "waits": "SELECT * FROM derived_ticket_waits ORDER BY ticket_id",
    "resolutions": "SELECT * FROM derived_resolution_events ORDER BY ticket_id, event_id",
    "handoffs": "SELECT * FROM derived_inferred_reassignments ORDER BY ALL",
}


@pytest.fixture(scope="module")
def mail(shared_data: Path) -> list[RawMessage]:
    files = [shared_data / "r-help-mbox" / "r-help" / month for month in MONTHS]
    return [message for path in files for message in read_messages(path)]


@pytest.fixture(scope="module")
def config(mail: list[RawMessage], tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The five most frequent senders of these months are the agents (counted here, so no address is written
    into the test)."""
    with Store.open(tmp_path_factory.mktemp("census") / "census.duckdb") as store:
        ingest_messages(store, parse_config({}), mail, ["census"], rebuild=False)
        top = store.execute("SELECT from_address FROM messages GROUP BY 1 ORDER BY count(*) DESC, from_address LIMIT 5")
    return parse_config(
        {
            "helpdesk": {"timezone": "UTC", "agent_addresses": [address for (address,) in top]},
            "labels": {"resolved": ["Done"]},
            "resolution": {"inactivity_days": 3},
        }
    )


def test_piece_by_piece_equals_everything_at_once(mail: list[RawMessage], config: Config, tmp_path: Path) -> None:
    size = -(-len(mail) // PIECES)
    pieces: list[list[RawMessage]] = [[] for _ in range(PIECES)]
    for index, message in enumerate(mail):
        number = index // size
        late = index % 4 == 0 and number < PIECES - 1
        pieces[number + late].append(message)
    done = [replace(message, folder="Done") for message in random.Random(8).sample(mail, DONE_COPIES)]

    with Store.open(tmp_path / "whole.duckdb") as whole:
        ingest_messages(whole, config, mail, ["whole"])
        ingest_messages(whole, config, done, ["done"])
        expected = {name: whole.execute(query) for name, query in COMPARED.items()}

    seen_ids: set[str] = set()
    recomputed_shares = []
    with Store.open(tmp_path / "pieces.duckdb") as store:
        for number, piece in enumerate([*pieces, done]):
            ingest_messages(store, config, piece, [f"piece {number}"], rebuild=False)
            tickets = rebuild_if_pending(store, config, touched_only=True)
            assert tickets == store.count("tickets")
            seen_ids |= {ticket_id for (ticket_id,) in store.execute("SELECT ticket_id FROM tickets")}
            built = built_state(store)
            assert built is not None
            if number:  # the first piece has no build to start from: it is a full rebuild
                assert built["derived_patched"], number
                recomputed_shares.append(int(str(built["recomputed"])) / tickets)
            else:
                assert built["recomputed"] is None
        actual = {name: store.execute(query) for name, query in COMPARED.items()}

    for name in COMPARED:
        assert actual[name] == expected[name], name
    final_ids = {row[0] for row in expected["tickets"]}
    # Late parents really happened: tickets that existed after some piece were renamed by a later one (23 here).
    assert len(seen_ids - final_ids) >= 20
    # And the updates touched part of the store, not all of it: the `Done` piece only the tickets of 40 messages
    # (and those the unchanged horizon cannot resolve: none), the others less than the whole.
    assert all(share < 1 for share in recomputed_shares)
    assert recomputed_shares[-1] * len(final_ids) <= DONE_COPIES
    resolved_by_label = [row for row in expected["ticket_events"] if row[-1] == "label"]
    assert resolved_by_label
