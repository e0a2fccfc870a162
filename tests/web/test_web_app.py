"""The web app over real HTTP: sign-in, roles, CSRF, the rate limit, escaping, CSV and the JSON API.

The numbers on the pages are checked against `deskpulse kpis` run as a separate command on the same store, while
the server runs: the page and the command must agree, filters included.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from tests.web.conftest import (
    AGENT,
    AGENT_ADDRESS,
    AGENT_PASSWORD,
    HOSTILE_BODY,
    HOSTILE_SUBJECT,
    MANAGER,
    MANAGER_PASSWORD,
    Site,
)

CELL = re.compile(r'data-metric="(\w+)" data-value="([^"]*)"')


def login_form_token(client: httpx.Client) -> str:
    page = client.get("/login")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def signed_in(site: Site, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=site.url, timeout=120)
    token = login_form_token(client)
    response = client.post("/login", data={"username": username, "password": password, "csrf": token})
    assert response.status_code == 303, response.text
    return client


@pytest.fixture(scope="module")
def manager(demo_site: Site) -> httpx.Client:
    return signed_in(demo_site, MANAGER, MANAGER_PASSWORD)


@pytest.fixture(scope="module")
def agent(demo_site: Site) -> httpx.Client:
    return signed_in(demo_site, AGENT, AGENT_PASSWORD)


def test_pages_need_a_session_and_send_security_headers(demo_site: Site) -> None:
    with httpx.Client(base_url=demo_site.url) as anonymous:
        response = anonymous.get("/scorecard?period=week")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fscorecard%3Fperiod%3Dweek"
        assert anonymous.get("/api/kpis").status_code == 401
        login = anonymous.get("/login")
        assert "script-src 'self'" in login.headers["content-security-policy"]
        assert login.headers["x-frame-options"] == "DENY"


def test_login_needs_the_form_token_and_refuses_open_redirects(demo_site: Site) -> None:
    with httpx.Client(base_url=demo_site.url) as client:
        forged = client.post("/login", data={"username": MANAGER, "password": MANAGER_PASSWORD, "csrf": "guess"})
        assert forged.status_code == 403
        token = login_form_token(client)
        response = client.post(
            "/login",
            data={"username": MANAGER, "password": MANAGER_PASSWORD, "csrf": token, "next": "//evil.example/x"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/scorecard"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_failed_logins_are_rate_limited(demo_site: Site) -> None:
    # [web] login_attempts defaults to 5: five wrong passwords are answered 401, the sixth attempt is refused
    # (429) even with the right password, so guessing stops there.
    demo_site.cli("user", "add", "victim", "--role", "manager", password="victim-password-1")
    with httpx.Client(base_url=demo_site.url) as client:
        token = login_form_token(client)
        codes = [
            client.post("/login", data={"username": "victim", "password": f"wrong-{i}", "csrf": token}).status_code
            for i in range(5)
        ]
        assert codes == [401] * 5
        right = client.post("/login", data={"username": "victim", "password": "victim-password-1", "csrf": token})
        assert right.status_code == 429


def test_logout_needs_the_session_token(demo_site: Site) -> None:
    client = signed_in(demo_site, MANAGER, MANAGER_PASSWORD)
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/scorecard").status_code == 200
    page = client.get("/scorecard")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    assert client.post("/logout", data={"csrf": token.group(1)}).status_code == 303
    assert client.get("/scorecard").status_code == 303  # the session is gone on the server, not only the cookie


def scorecard_values(html: str) -> dict[str, float | None]:
    section = html.split('data-table="scorecard"', 1)[1].split("</table>", 1)[0]
    return {metric: (float(value) if value else None) for metric, value in CELL.findall(section)}


def same(a: float | None, b: object) -> bool:
    return a is None if b is None else a is not None and abs(a - float(b)) <= 1e-9 * max(1.0, abs(a))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "filters", [(), (("category", "Billing"),), (("agent", "ben@acme.test"), ("agent", "dev@acme.test"))]
)
def test_scorecard_page_equals_deskpulse_kpis(demo_site: Site, manager: httpx.Client, filters: tuple) -> None:
    page = manager.get("/scorecard", params=[("period", "month"), *filters])
    assert page.status_code == 200
    shown = scorecard_values(page.text)
    period = re.search(r"Month (\d{4}-\d\d)", page.text)
    assert period and shown
    options = [f"--filter={dim}={','.join(v for d, v in filters if d == dim)}" for dim in dict(filters)]
    result = demo_site.kpis("--period", "month", *options)
    row = next(r for r in result["rows"] if r["period"] == period.group(1))  # type: ignore[index]
    for metric, value in shown.items():
        assert same(value, row[metric]["value"]), (metric, value, row[metric])


def test_every_table_exports_the_numbers_it_shows(manager: httpx.Client) -> None:
    page = manager.get("/scorecard").text
    exported = manager.get("/scorecard?export=scorecard")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    shown = scorecard_values(page)
    assert [row["kpi"] for row in rows] == list(shown)
    for row in rows:
        assert same(float(row["value"]) if row["value"] else None, shown[row["kpi"]])


def test_drill_down_lists_as_many_rows_as_the_number_counts(demo_site: Site, manager: httpx.Client) -> None:
    result = demo_site.kpis("--period", "month", "--metrics", "first_response_time,one_touch_rate,tickets_created")
    row = result["rows"][-2]  # type: ignore[index]
    for metric in ("first_response_time", "one_touch_rate", "tickets_created"):
        drill = manager.get("/api/drill", params={"metric": metric, "period": "month", "at": row["period"]}).json()
        assert len(drill["rows"]) == row[metric]["n"], metric
    # A rate's rows mark its hits: the share of hits is the rate.
    drill = manager.get(
        "/api/drill", params={"metric": "one_touch_rate", "period": "month", "at": row["period"]}
    ).json()
    hits = [r[drill["columns"].index("hit")] for r in drill["rows"]]
    assert sum(hits) / len(hits) == pytest.approx(row["one_touch_rate"]["value"])


def test_customer_text_is_escaped(manager: httpx.Client) -> None:
    flagged = manager.get("/api/kpis").json()
    assert flagged["rows"]
    ticket = manager.get("/api/drill", params={"metric": "tickets_created", "period": "month", "at": "2026-03"}).json()
    ids = [r[0] for r in ticket["rows"]]
    hostile = next(t for t in ids if HOSTILE_SUBJECT in manager.get(f"/api/tickets/{t}").json()["ticket"]["subject"])
    html = manager.get(f"/tickets/{hostile}").text
    assert "<script>window.__pwned" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.__pwned" in html and "&lt;img src=x onerror=" in html
    assert HOSTILE_BODY.split(">")[1].strip() in html


def test_an_agent_sees_the_team_and_themself_only(demo_site: Site, agent: httpx.Client) -> None:
    assert agent.get("/agents", follow_redirects=False).headers["location"] == f"/agents/{AGENT_ADDRESS}"
    assert agent.get(f"/agents/{AGENT_ADDRESS}").status_code == 200
    assert agent.get("/agents/ben@acme.test").status_code == 403
    assert agent.get("/scorecard", params={"agent": "ben@acme.test"}).status_code == 403
    assert agent.get("/api/kpis", params={"agent": "ben@acme.test"}).status_code == 403
    assert agent.get("/api/drill", params={"metric": "tickets_created", "by_agent": "ben@acme.test"}).status_code == 403
    grouped = agent.get("/api/kpis", params={"by": "agent", "period": "all"}).json()
    assert {row["agent"] for row in grouped["rows"]} == {AGENT_ADDRESS}
    # Guardrails name teams and agents: an agent sees the teams' and their own, the manager everyone's.
    subjects = {g["subject"] for g in agent.get("/api/scorecard").json()["guardrails"]}
    everyone = {g["subject"] for g in json.loads(demo_site.cli("scorecard", "--format", "json"))["guardrails"]}
    assert {s for s in everyone if "@" in s} - {AGENT_ADDRESS}  # colleagues have guardrails to hide…
    assert subjects == {s for s in everyone if "@" not in s or s == AGENT_ADDRESS}  # …and they are hidden
    # The team's figures stay visible: the unfiltered scorecard is the team's.
    team = agent.get("/api/kpis", params={"period": "all", "metrics": "tickets_created"}).json()
    whole = demo_site.kpis("--period", "all", "--metrics", "tickets_created")
    assert team["rows"][0]["tickets_created"] == whole["rows"][0]["tickets_created"]  # type: ignore[index]


def test_api_tokens_authenticate_and_the_schema_is_published(demo_site: Site) -> None:
    token = demo_site.cli("token", "add", MANAGER).strip()
    with httpx.Client(base_url=demo_site.url, timeout=120) as client:
        assert client.get("/api/kpis", headers={"Authorization": "Bearer wrong"}).status_code == 401
        response = client.get("/api/kpis", params={"period": "all"}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert (
            response.json()["rows"][0]["tickets_created"]
            == demo_site.kpis("--period", "all")["rows"][0][  # type: ignore[index]
                "tickets_created"
            ]
        )
        schema = client.get("/api/openapi.json").json()
        assert {"/api/kpis", "/api/scorecard", "/api/tickets/{ticket_id}", "/api/flags"} <= set(schema["paths"])


def test_an_import_between_two_page_views_shows_on_the_next(demo_site: Site, manager: httpx.Client) -> None:
    # The server reads the store per computation and remembers results only while the store file is unchanged:
    # mail imported by another process while it runs appears on the next request, without a restart.
    before = manager.get("/api/kpis", params={"period": "all", "metrics": "tickets_created"}).json()
    eml = demo_site.dir / "late.eml"
    eml.write_text(
        "From: Late Customer <late@customer.example>\nTo: help@acme.test\nSubject: Where is my parcel?\n"
        "Date: Mon, 09 Mar 2026 09:00:00 +0100\nMessage-ID: <late-1@customer.example>\n\nIt has not arrived.\n",
        encoding="utf-8",
    )
    demo_site.cli("ingest", str(eml))
    after = manager.get("/api/kpis", params={"period": "all", "metrics": "tickets_created"}).json()
    assert after["rows"][0]["tickets_created"]["value"] == before["rows"][0]["tickets_created"]["value"] + 1


def test_a_page_asked_for_during_an_import_says_so(demo_site: Site, manager: httpx.Client) -> None:
    from deskpulse.store import Store

    with Store.open(demo_site.db):  # a writer holds the store, as an import does
        response = manager.get("/api/kpis", params={"period": "year", "metrics": "backlog"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "being updated" in response.text


def test_the_review_queue_lists_running_sla_targets_at_risk(manager: httpx.Client) -> None:
    rows = list(csv.DictReader(io.StringIO(manager.get("/flags?export=sla_risk").text)))
    assert rows  # the demo leaves tickets unanswered past their first-reply target
    shares = [float(row["share_of_target"]) for row in rows]
    assert shares == sorted(shares, reverse=True) and min(shares) >= 0.8
    for row in rows:
        assert float(row["elapsed"]) / float(row["target_time"]) == pytest.approx(float(row["share_of_target"]))
    sentiment = list(csv.DictReader(io.StringIO(manager.get("/flags?export=flags").text)))
    assert sentiment and all(row["state"] == "open" for row in sentiment)


def test_the_review_queue_takes_the_page_filters(manager: httpx.Client) -> None:
    everyone = manager.get("/api/flags").json()
    categories = {
        flag["ticket_id"]: manager.get(f"/api/tickets/{flag['ticket_id']}").json()["ticket"]["category"] or ""
        for flag in everyone
    }
    billing = [flag for flag in everyone if categories[flag["ticket_id"]].split(" > ")[0] == "Billing"]
    assert 0 < len(billing) < len(everyone)
    assert manager.get("/api/flags", params={"category": "Billing"}).json() == billing
    # Days are local days of the demo's reporting timezone (Europe/Berlin); raised_at is stored in UTC.
    berlin = ZoneInfo("Europe/Berlin")

    def local_day(flag: dict[str, str]) -> str:
        return datetime.fromisoformat(flag["raised_at"]).replace(tzinfo=UTC).astimezone(berlin).date().isoformat()

    late = manager.get("/api/flags", params={"since": "2026-03-01"}).json()
    assert late == [flag for flag in everyone if local_day(flag) >= "2026-03-01"]
    assert manager.get("/api/flags", params={"until": "2000-01-01"}).json() == []


def test_the_ticket_list_is_the_population_of_tickets_created(demo_site: Site, manager: httpx.Client) -> None:
    params = {"category": "Billing", "since": "2026-03-01", "until": "2026-03-31", "limit": "10000"}
    listing = manager.get("/api/tickets", params=params).json()
    expected = demo_site.kpis(
        "--period",
        "all",
        "--metrics",
        "tickets_created",
        "--filter",
        "category=Billing",
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-31",
    )["rows"][0]["tickets_created"]["value"]  # type: ignore[index]
    assert listing["n"] == len(listing["tickets"]) == expected > 0
    assert all(t["category"].split(" > ")[0] == "Billing" for t in listing["tickets"])
    berlin = ZoneInfo("Europe/Berlin")
    days = [
        datetime.fromisoformat(t["created_at"]).replace(tzinfo=UTC).astimezone(berlin).date()
        for t in listing["tickets"]
    ]
    assert (
        days == sorted(days, reverse=True)
        and "2026-03-01" <= days[-1].isoformat() <= days[0].isoformat() <= "2026-03-31"
    )
    shortened = manager.get("/api/tickets", params={**params, "limit": "3"}).json()
    assert shortened["n"] == listing["n"] and shortened["tickets"] == listing["tickets"][:3]


def test_an_agent_sees_colleagues_tickets_without_their_names(agent: httpx.Client) -> None:
    tickets = agent.get("/api/tickets", params={"limit": "10000"}).json()["tickets"]
    assignees = {t["assignee"] for t in tickets}
    assert "(another agent)" in assignees and AGENT_ADDRESS in assignees
    assert not {a for a in assignees if a and "@" in a} - {AGENT_ADDRESS}


def test_bad_parameters_are_named_and_change_nothing(manager: httpx.Client) -> None:
    bad_date = manager.get("/api/kpis", params={"since": "last tuesday"})
    assert bad_date.status_code == 400
    assert bad_date.json()["detail"] == "since must be a date such as 2026-03-01, got 'last tuesday'"
    page = manager.get("/scorecard", params={"period": "fortnight"})
    assert page.status_code == 400 and "unknown period &#39;fortnight&#39;" in page.text
    assert manager.get("/api/kpis", params={"metrics": "no_such_metric"}).status_code == 400
    report = manager.get("/api/reports/all", params={"period": "2026-03", "format": "docx"})
    assert report.status_code == 400 and "use json, md, html or pdf" in report.json()["detail"]
    assert manager.get("/scorecard").status_code == 200  # the server goes on as before
