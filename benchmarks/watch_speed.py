"""What one `deskpulse watch` sync costs on a large store: the full rebuild next to the touched-only update.

    python benchmarks/watch_speed.py [--tickets 1000000] [--new 200]

Takes the generated store of `scorecard_scale.py` (N tickets, four messages each; generated first when missing),
copies it, and builds its tickets once in full. Then a sync's worth of new mail arrives (``--new`` messages, an
hour after the newest stored one: half of them replies to stored messages by In-Reply-To, half new questions) and
is stored as `deskpulse sync imap` stores it. Timed, each on its own copy of that store:
  * the full rebuild an import runs (`deskpulse.tickets.rebuild_tickets`: re-threads every message);
  * the touched-only update a sync runs (`deskpulse.touched.update_tickets`), with how many tickets it recomputed
    and whether the derived fact tables were patched for those tickets only or built whole. Figures only.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from scorecard_scale import CACHE, CONFIG, generate  # noqa: E402


def new_mail(store: object, count: int) -> list[object]:
    """``count`` messages an hour after the store's newest: replies to random stored questions, new questions."""
    from deskpulse.sources.mailbox import RawMessage

    [(newest,)] = store.execute("SELECT max(received_at) FROM messages")  # type: ignore[attr-defined]
    [(questions,)] = store.execute("SELECT count(*) FROM messages WHERE message_key LIKE '%-q'")  # type: ignore[attr-defined]
    chooser = random.Random(1)
    raw = []
    for number in range(count):
        mail = EmailMessage()
        moment = newest + timedelta(hours=1, seconds=number)
        mail["Date"] = format_datetime(moment.replace(tzinfo=UTC))
        mail["Message-ID"] = f"<new-{number}@example.org>"
        mail["To"] = "help@acme.test"
        if number % 2:
            asked = chooser.randrange(questions)
            mail["From"] = f"agent{number % 8}@acme.test"
            mail["Subject"] = f"Re: Question {asked}"
            mail["In-Reply-To"] = f"<T-{asked:012d}-q>"
            mail.set_content("Here is what to do.")
        else:
            mail["From"] = f"newcustomer{number}@example.org"
            mail["Subject"] = f"New question {number}"
            mail.set_content("Something is broken.")
        raw.append(RawMessage("benchmark", str(number), mail.as_bytes()))
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=200)
    arguments = parser.parse_args()

    import tomllib

    from deskpulse.config import parse_config
    from deskpulse.ingest import ingest_messages, rebuild_store
    from deskpulse.store import Store
    from deskpulse.touched import built_state

    config = parse_config(tomllib.loads(CONFIG))
    cached = CACHE / f"scale-{arguments.tickets}.duckdb"
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        generate(cached, arguments.tickets)
    with tempfile.TemporaryDirectory() as directory:
        built = Path(directory) / "built.duckdb"
        shutil.copy(cached, built)
        with Store.open(built) as store:
            started = time.perf_counter()
            tickets = rebuild_store(store, config)
            print(
                f"{arguments.tickets:,} tickets, {store.count('messages'):,} messages: first full build "
                f"{time.perf_counter() - started:.1f} s ({tickets:,} tickets)"
            )
            ingest_messages(store, config, new_mail(store, arguments.new), ["benchmark"], rebuild=False)
        for touched_only in (False, True):
            copy = Path(directory) / f"copy-{touched_only}.duckdb"
            shutil.copy(built, copy)
            with Store.open(copy) as store:
                started = time.perf_counter()
                tickets = rebuild_store(store, config, touched_only=touched_only)
                seconds = time.perf_counter() - started
                what = "touched-only update" if touched_only else "full rebuild"
                detail = ""
                if touched_only:
                    built = built_state(store) or {}
                    how = "patched" if built.get("derived_patched") else "built whole"
                    detail = f", {built.get('recomputed')} tickets recomputed, derived tables {how}"
                print(f"{arguments.new} new messages, {what}: {seconds:.1f} s ({tickets:,} tickets{detail})")
            copy.unlink()


if __name__ == "__main__":
    main()
