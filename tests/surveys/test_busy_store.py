"""An answer that comes while an import holds the store is not lost: it waits in the state file and is stored by
the next answer or the next send run, at the time it was given."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from tests.surveys.conftest import Desk, links

from deskpulse.web import data

# Another process holding the store for writing, as `deskpulse ingest` or `watch` does.
HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('holding', flush=True); time.sleep(60)"


def test_an_answer_during_an_import_is_kept_and_stored_later(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    report = desk.send("2026-03-05T12:00")
    carla = links(desk.mail_to("carla@example.org"))
    monkeypatch.setattr(data, "BUSY_WAIT_SECONDS", 0.3)  # how long the app waits for the store (5 s in use)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(desk.db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        page = httpx.get(carla["3"])  # the page works without the store (it cannot show earlier answers)
        assert page.status_code == 200 and 'value="3" required checked' in page.text
        answer = httpx.post(carla["3"].split("?")[0], data={"csat": "3", "ces": "5", "comment": "Fine, slow."})
        assert answer.status_code == 200 and "Your answer is recorded" in answer.text
    finally:
        holder.kill()
        holder.wait()
    assert desk.state("SELECT survey_id, csat, ces, comment FROM survey_pending_answers") == [
        (report["sent"][0]["survey_id"], 3, 5, "Fine, slow.")
    ]
    assert [r for r in desk.surveys_rows() if r["answered_at"] is not None] == []

    # The next send run stores it first. CSAT 3 is not satisfied: 0 of 1; CES 5; 1 answered of 4 delivered.
    desk.send("2026-03-05T13:00")
    assert desk.kpis() == {"csat": (0.0, 1), "ces": (5.0, 1), "survey_response_rate": (0.25, 4)}
    assert desk.state("SELECT * FROM survey_pending_answers") == []
