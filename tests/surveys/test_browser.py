"""One click answers, in a real browser: the link from the mail opened in headless Chromium (Debian's, driven by
Playwright) records the CSAT through the page's own script, then the form adds CES and a comment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import skip_or_fail
from tests.surveys.conftest import Desk, links
from tests.web.test_browser import ARGS, CHROMIUM, shot


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        skip_or_fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def test_the_click_in_the_mail_answers_and_the_page_adds_ces_and_a_comment(desk: Desk, browser: object) -> None:
    desk.send("2026-03-05T12:00")
    link = links(desk.mail_to("carla@example.org"))["4"]
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(link)
    page.wait_for_selector("#recorded:not([hidden])")  # the script's POST was answered
    answered = [r for r in desk.surveys_rows() if r["answered_at"] is not None]
    assert [(r["kind"], r["score"]) for r in answered] == [("csat", 4)]

    page.check("input[name=ces][value='6']")
    page.fill("textarea[name=comment]", 'Quick and kind <script>alert("x")</script>')
    shot(page, "survey")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Your answer is recorded")
    answered = [r for r in desk.surveys_rows() if r["answered_at"] is not None]
    # The click's CSAT 4, then the form's CES 6 and CSAT 4 again, now with the comment (the latest counts).
    assert [(r["kind"], r["score"], r["comment"]) for r in answered] == [
        ("csat", 4, None),
        ("ces", 6, None),
        ("csat", 4, 'Quick and kind <script>alert("x")</script>'),
    ]
    assert errors == []

    # Opened again, the page shows the answer given, the comment as text.
    page.goto(link.split("?")[0])
    assert page.input_value("textarea[name=comment]") == 'Quick and kind <script>alert("x")</script>'
    assert page.is_checked("input[name=ces][value='6']") and page.is_checked("input[name=csat][value='4']")
    page.close()
