"""The department report on the hand-made help desk of conftest.py: routing, volumes, cost, sentiment, quotes, the
initiative scores, and the three formats (the PDF read back with pdftotext).

Finance in March 2026 (Europe/Berlin), by hand:

    pain point              March  February  how it reached finance         scored  negative  cost (200 each)
    Billing > Refund        4      3         category Billing               4       2         800
      (R4, created Feb 28 23:30 UTC, is March 1 00:30 in Berlin; FR3, Feb 28 23:30 in Berlin, is February)
    Billing > Invoice       1      2         category                       1       1         200
    Bug > App Crash         1      0         C2's text says "refund"        1       0         200
    Refunds                 1      0         U1 says "money back", no category      1   1     200
    Shipping & Returns <b>  1      0         tag chargeback (T1)            0       –         200
    tag: chargeback         1      0         tag Chargeback (U3), no category       1   1     200

9 tickets in March (5 in February: FR1–FR3, FI1, FI2). Engineering: C1 and C2 (Bug > App Crash, 2 against FC1's
1). U2 ("crashed", not the whole word "crash") and S1 (Shipping) reach no department: 12 − 10 = 2 unrouted.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from tests.reports.conftest import R1_FIRST_REDACTED, Scenario
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.reports.department import Report, build_report, pain_point_tickets
from deskpulse.reports.render import render_html, render_markdown, render_pdf, report_body_html
from deskpulse.store import Store


@pytest.fixture(scope="module")
def finance(scenario: Scenario) -> Report:
    with Store.open(scenario.db, read_only=True) as store:
        return build_report(store, scenario.config, "finance", "2026-03")


@pytest.fixture(scope="module")
def team(scenario: Scenario) -> Report:
    with Store.open(scenario.db, read_only=True) as store:
        return build_report(store, scenario.config, "all", "2026-03", top=6)


def test_routing_and_pain_point_volumes(finance: Report) -> None:
    assert (finance.period.label, finance.period.previous.label, finance.timezone) == (
        "2026-03",
        "2026-02",
        "Europe/Berlin",
    )
    assert (finance.tickets, finance.unrouted_tickets) == (12, 3)  # 12 in March, 9 of them finance's
    [section] = finance.sections
    assert (section.tickets, section.previous_tickets) == (9, 5)
    # Most tickets first, then by name; the top 5 are shown and the sixth counted.
    assert [(p.name, p.kind, p.tickets, p.previous_tickets) for p in section.pain_points] == [
        ("Billing > Refund", "category", 4, 3),
        ("Billing > Invoice", "category", 1, 2),
        ("Bug > App Crash", "category", 1, 0),
        ("Refunds", "keywords", 1, 0),
        ("Shipping & Returns <b>", "category", 1, 0),
    ]
    assert section.other_pain_points == 1  # tag: chargeback
    refund = section.pain_points[0]
    assert refund.change == pytest.approx(1 / 3)  # (4 − 3) / 3
    assert refund.spikes == ()


def test_cost_is_tickets_times_the_engines_cost_per_ticket(finance: Report) -> None:
    assert finance.cost_per_ticket == pytest.approx(200.0)  # 2,400 EUR ÷ 12 tickets created in March
    assert (finance.currency, finance.cost_note) == ("EUR", None)
    costs = {p.name: p.cost for p in finance.sections[0].pain_points}
    assert costs["Billing > Refund"] == pytest.approx(800.0)  # 4 × 200
    assert costs["Billing > Invoice"] == pytest.approx(200.0)


def test_sentiment_of_each_pain_point(finance: Report) -> None:
    points = {p.name: p for p in finance.sections[0].pain_points}
    refund = points["Billing > Refund"]
    # R1 −0.8 and −0.6 (negative), R2 +0.2, R3 0.0; R4 is not scored.
    assert (refund.scored_messages, refund.negative_messages) == (4, 2)
    assert refund.negative_share == pytest.approx(0.5)
    assert refund.mean_score == pytest.approx((-0.8 - 0.6 + 0.2 + 0.0) / 4)
    assert points["Shipping & Returns <b>"].negative_share is None  # nothing scored: unknown, not 0


def test_quotes_are_redacted_most_negative_and_typical(finance: Report, scenario: Scenario) -> None:
    refund = finance.sections[0].pain_points[0]
    negative, typical = refund.quotes
    assert (negative.kind, negative.ticket_id, negative.score) == ("most negative", scenario.ids["r1"], -0.8)
    assert negative.text == R1_FIRST_REDACTED
    # From another ticket than R1: R2 and R3 say the same in TF-IDF terms; the first message key wins.
    assert (typical.kind, typical.ticket_id, typical.text) == (
        "typical",
        scenario.ids["r2"],
        "Please refund order A100, the refund is late.",
    )
    # C2 scored +0.1: no "most negative" quote, but it is the typical one of its pain point.
    crash = next(p for p in finance.sections[0].pain_points if p.name == "Bug > App Crash")
    assert [(q.kind, q.ticket_id) for q in crash.quotes] == [("typical", scenario.ids["c2"])]


def test_initiatives_ranked_by_the_documented_score(finance: Report) -> None:
    initiatives = finance.sections[0].initiatives
    # basis × (1 + growth) × (1 + dissatisfaction):
    #   Billing > Refund  800 × (1 + 1/3) × (1 + 0.5) = 1,600
    #   Refunds           200 × 2 × 2 = 800 (new; its one scored message negative)
    #   tag: chargeback   200 × 2 × 2 = 800 (tie: same tickets, then the name)
    #   Billing > Invoice 200 × (1 + 0) × 2 = 400 (fewer than in February: growth 0, not negative)
    #   Bug > App Crash   200 × 2 × 1 = 400; Shipping & Returns <b> 200 × 2 × 1 = 400 is sixth, not shown
    assert [(i.rank, i.pain_point, round(i.score, 6)) for i in initiatives] == [
        (1, "Billing > Refund", 1600.0),
        (2, "Refunds", 800.0),
        (3, "tag: chargeback", 800.0),
        (4, "Billing > Invoice", 400.0),
        (5, "Bug > App Crash", 400.0),
    ]
    first = initiatives[0]
    assert (first.basis, first.growth, first.dissatisfaction, first.basis_is_cost) == (
        pytest.approx(800.0),
        pytest.approx(1 / 3),
        0.5,
        True,
    )
    assert initiatives[1].title == "Investigate “Refunds” (uncategorised tickets)"


def test_team_report_has_every_department_and_the_scorecard(team: Report) -> None:
    assert team.title == "Team monthly report, 2026-03"
    assert (team.tickets, team.unrouted_tickets) == (12, 2)  # U2 and S1
    assert [s.department.name for s in team.sections] == ["engineering", "finance"]
    engineering = team.sections[0]
    [crash] = engineering.pain_points
    assert (crash.name, crash.tickets, crash.previous_tickets, crash.negative_share) == ("Bug > App Crash", 2, 1, 0.5)
    # 400 × (1 + 1) × (1 + 0.5): doubled since February, one of its two messages negative.
    assert engineering.initiatives[0].score == pytest.approx(1200.0)
    assert team.scorecard is not None
    assert (team.scorecard.period, team.scorecard.previous_period) == ("2026-03", "2026-02")
    created = next(line for line in team.scorecard.lines if line.metric == "tickets_created")
    assert (created.value, created.previous) == (12, 6)  # FR1–FR3, FI1, FI2, FC1 in February
    assert team.sections[1].other_pain_points == 0  # top=6 shows all six of finance's


def test_drill_down_to_the_tickets_of_a_pain_point(scenario: Scenario) -> None:
    with Store.open(scenario.db, read_only=True) as store:
        ids = pain_point_tickets(store, scenario.config, "finance", "2026-03", "Billing > Refund")
    assert ids == [scenario.ids[key] for key in ("r4", "r1", "r2", "r3")]  # oldest first; R4 on March 1


def test_without_cost_data_cost_is_na_and_the_score_counts_tickets(scenario: Scenario) -> None:
    from dataclasses import replace

    config = replace(scenario.config, files=replace(scenario.config.files, costs=None))
    with Store.open(scenario.db, read_only=True) as store:
        report = build_report(store, config, "finance", "2026-03")
    assert report.cost_per_ticket is None
    assert report.cost_note is not None and "no costs file" in report.cost_note
    refund = report.sections[0].pain_points[0]
    assert refund.cost is None
    first = report.sections[0].initiatives[0]
    assert (first.basis, first.basis_is_cost, first.score) == (4.0, False, pytest.approx(8.0))  # 4 × 4/3 × 1.5
    text = render_markdown(report)
    assert "Cost: n/a." in text and "| n/a |" in text


def test_a_script_in_customer_text_stays_escaped_in_html(team: Report) -> None:
    page = render_html(team)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; My parcel never came" in page
    assert "Shipping &amp; Returns &lt;b&gt;" in page  # a category name is data too
    assert "<b>" not in page
    body = report_body_html(team)
    assert "<html" not in body and "<head" not in body and body.startswith('<div class="deskpulse-report">')


def test_html_is_standalone_with_inline_svg_charts(team: Report) -> None:
    page = render_html(team)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert page.count("<svg") == 3  # tickets per department, then each department's pain points
    for reference in ("http:", "https:", "src=", "href=", "url(", "@import"):
        assert reference not in page


def test_markdown_escapes_data_and_shows_the_formula(team: Report) -> None:
    text = render_markdown(team)
    assert "\\<script\\>alert('x')\\</script\\>" in text
    assert "<script>" not in text
    assert "`score = basis × (1 + growth) × (1 + dissatisfaction)`" in text
    # 4 tickets (3 before), basis 800, growth 1/3, dissatisfaction 1/2: 800 × 1.33 × 1.50 = 1,600.
    row = "| 1 | Remove the causes of “Billing \\> Refund” tickets | 4 (3) | 800.00 | 0.33 | 0.50 |"
    assert row + " 800.00 × 1.33 × 1.50 = 1,600.0 |" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_reads_back_with_the_department_a_pain_point_and_a_redacted_quote(finance: Report, tmp_path: Path) -> None:
    path = tmp_path / "finance.pdf"
    path.write_bytes(render_pdf(finance))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
    flat = " ".join(text.split())
    assert "Finance: customer pain report, 2026-03" in flat
    assert "Billing > Refund" in flat
    assert "Write to me at [email] or call [phone]" in flat
    assert "carla@example.org" not in flat and "4111" not in flat


def test_cli_writes_each_format(scenario: Scenario, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--config", str(scenario.config.source), "--db", str(scenario.db), "report", "--period", "2026-03"]
    result = runner.invoke(app, [*base, "--department", "Finance", "--format", "md"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Finance: customer pain report, 2026-03\n")
    html = tmp_path / "team.html"
    result = runner.invoke(app, [*base, "--department", "all", "--format", "html", "--output", str(html)])
    assert result.exit_code == 0, result.output
    assert "Team monthly report, 2026-03: written to" in result.output
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    result = runner.invoke(app, [*base, "--department", "finance", "--format", "pdf"])
    assert result.exit_code != 0 and "--output" in result.output
    result = runner.invoke(app, [*base, "--department", "legal"])
    assert result.exit_code != 0
    assert "no department 'legal'; known: engineering, finance, or all" in str(result.exception)
