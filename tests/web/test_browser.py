"""End to end in real headless Chromium (Debian's, driven by Playwright; no browser download) against
`deskpulse serve` on 127.0.0.1. Screenshots go to build/screenshots/ (or $DESKPULSE_SCREENSHOTS)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT, skip_or_fail
from tests.web.conftest import AGENT, AGENT_ADDRESS, AGENT_PASSWORD, HOSTILE_SUBJECT, MANAGER, MANAGER_PASSWORD, Site

CHROMIUM = Path(os.environ.get("DESKPULSE_CHROMIUM", "/usr/bin/chromium"))
SHOTS = Path(os.environ.get("DESKPULSE_SCREENSHOTS") or REPO_ROOT / "build" / "screenshots")
# The flags a headless Chromium needs on a closed network, as root, in a container.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists() or (shutil.which("pdftotext") is None and False):
        skip_or_fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def sign_in(browser: object, site: Site, username: str, password: str) -> object:
    page = browser.new_page(viewport={"width": 1300, "height": 1000})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(f"{site.url}/scorecard")
    assert page.url.startswith(f"{site.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/scorecard")
    return page


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_scorecard_in_the_browser_equals_deskpulse_kpis_and_drills_down(browser: object, demo_site: Site) -> None:
    page = sign_in(browser, demo_site, MANAGER, MANAGER_PASSWORD)
    page.wait_for_selector("figure.chart[data-drawn] svg")  # the chart drew, from the app's own script
    shot(page, "scorecard")
    # The default period is the config's [scorecard] period; the note names it and the period shown.
    period = re.search(r"(Day|Week|Month|Quarter|Year) (\d{4}-\S+),", page.inner_text("main"))
    assert period
    cells = page.query_selector_all('table[data-table="scorecard"] td[data-metric]')
    shown = {cell.get_attribute("data-metric"): cell.get_attribute("data-value") for cell in cells}
    rows = demo_site.kpis("--period", period.group(1).lower())["rows"]
    row = next(r for r in rows if r["period"] == period.group(2))  # type: ignore[union-attr]
    assert shown
    for metric, value in shown.items():
        expected = row[metric]["value"]
        assert (value == "") if expected is None else float(value) == pytest.approx(expected, rel=1e-9), metric
    # Click the first response time: the page behind it lists exactly the n replies the number is the median of.
    n = row["first_response_time_business"]["n"]
    page.click('td[data-metric="first_response_time_business"] a')
    page.wait_for_url(re.compile(r"/drill\?"))
    assert f"{n:,} rows make the number" in page.inner_text("main")
    assert len(page.query_selector_all('table[data-table="tickets"] tbody tr')) == n
    shot(page, "drill-down")
    page.click('table[data-table="tickets"] tbody tr a')
    page.wait_for_url(re.compile(r"/tickets/T-"))
    assert page.query_selector('table[data-table="thread"]')
    assert page.errors == []  # type: ignore[attr-defined]


def test_script_payloads_in_a_ticket_stay_inert(browser: object, demo_site: Site) -> None:
    page = sign_in(browser, demo_site, MANAGER, MANAGER_PASSWORD)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{demo_site.url}/drill?metric=tickets_created&period=month&at=2026-03")
    ids = [a.inner_text() for a in page.query_selector_all('table[data-table="tickets"] tbody tr a')]
    for ticket in ids:
        page.goto(f"{demo_site.url}/tickets/{ticket}")
        if HOSTILE_SUBJECT in page.inner_text("main"):
            break
    else:
        pytest.fail("the hostile ticket is not in March")
    page.wait_for_timeout(300)  # an onerror handler of a broken image would have run by now
    assert page.evaluate("window.__pwned") is None
    assert page.query_selector("main img") is None and page.query_selector("main script") is None
    assert "I was charged twice." in page.inner_text("main")
    assert dialogs == []
    shot(page, "hostile-ticket")


def test_an_agent_reaches_their_own_page_and_no_one_elses(browser: object, demo_site: Site) -> None:
    page = sign_in(browser, demo_site, AGENT, AGENT_PASSWORD)
    page.click("nav >> text=Agents")
    page.wait_for_url(f"{demo_site.url}/agents/{AGENT_ADDRESS}")
    assert "Your numbers" in page.inner_text("main")
    shot(page, "agent-own-progress")
    response = page.goto(f"{demo_site.url}/agents/ben@acme.test")
    assert response.status == 403
    assert "Not yours to see" in page.inner_text("main")
    assert page.goto(f"{demo_site.url}/reports").status == 403  # department reports are for managers
    response = page.goto(f"{demo_site.url}/api/kpis?by=agent&period=all")
    assert response.status == 200
    assert set(re.findall(r'"agent":\s*"([^"]+)"', page.inner_text("body"))) == {AGENT_ADDRESS}


def test_a_department_report_on_the_page_and_as_pdf(browser: object, demo_site: Site, tmp_path: Path) -> None:
    page = sign_in(browser, demo_site, MANAGER, MANAGER_PASSWORD)
    page.click("nav >> text=Reports")
    page.select_option("select[name=department]", "product")
    page.fill("input[name=period]", "2026-03")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"department=product"))
    text = page.inner_text("main")
    assert "Product: customer pain report, 2026-03" in text and "Initiatives" in text
    assert page.query_selector(".deskpulse-report svg")  # the chart, drawn as SVG by the server
    shot(page, "report-product")
    # A pain point's ticket count links to exactly that many tickets.
    link = page.query_selector(".deskpulse-report table.pain-points a")
    assert link is not None
    count = int(link.inner_text().replace(",", ""))
    link.click()
    page.wait_for_url(re.compile(r"/reports/tickets\?"))
    assert len(page.query_selector_all('table[data-table="tickets"] tbody tr')) == count
    page.go_back()
    # The PDF of the same report, as the page's link downloads it, read back by pdftotext.
    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext is missing: apt-get install poppler-utils (.ci/run does)")
    response = page.request.get(demo_site.url + str(page.get_attribute("a >> text=PDF", "href")))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "product.pdf"
    pdf.write_bytes(response.body())
    words = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Product: customer pain report, 2026-03" in words
    assert "Initiatives" in words and "score = basis" in words
    assert "@" not in words.split("What customers say", 1)[-1]  # quotes come redacted: no address survives
