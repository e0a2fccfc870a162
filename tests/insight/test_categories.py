"""Hierarchical categories: the taxonomy file, rules before the model, the confidence threshold and the review
queue, manual labels feeding the next training, and `kpis --by category` after `categorize apply`.

The help desk below has eight tickets. Five carry a manual label (labels.csv, by Message-ID); one matches the
taxonomy's `crash` pattern; two are left to the model:

    ticket  subject           text (abridged)                                   how it gets its category
    r1      Refund please     charged twice, I want a refund                    label Billing > Refund
    r2      Money back        please refund my order, payment went through …    label Billing > Refund
    i1      Invoice copy      send me a copy of my invoice for March            label Billing > Invoice
    l1      Cannot log in     the password reset link does not work             label Technical > Login Error
    l2      Login broken      login fails with wrong password …                 label Technical > Login Error
    c1      App crashes       the app crashes when I ask for a refund           rule Technical > Crash
    u1      Double payment    please refund the double payment                  model
    u2      Hello             a quick question about something                  model
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REPO_ROOT, skip_or_fail
from tests.mailbuilder import Mail, write_mbox
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.config import parse_config, resolve_files
from deskpulse.ingest import ingest_paths
from deskpulse.inputs.csvfile import InputFileError
from deskpulse.insight.categories import (
    apply_categories,
    classify_tickets,
    known_categories,
    load_labels,
    review_queue,
    ticket_texts,
    training_set,
)
from deskpulse.insight.category_model import PARALLEL_MINIMUM, CategoryModel, Prediction
from deskpulse.insight.runs import RunError, compare_runs
from deskpulse.insight.taxonomy import (
    UNCLASSIFIED,
    TaxonomyError,
    TicketText,
    category_name,
    load_taxonomy,
    parse_taxonomy,
)
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.metrics.facts import build_calendar, list_tickets
from deskpulse.store import Store
from deskpulse.tickets import rebuild_tickets

HELP = "help@acme.test"
TAXONOMY = """
[settings]
threshold = 0.5

[categories."Billing > Refund"]
keywords = ["money back guarantee"]
[categories."Billing > Invoice"]
[categories."Technical > Login Error"]
[categories."Technical > Crash"]
patterns = ['crash(es|ed)?']
"""
TICKETS = {
    # key: (subject, text, label)
    "r1": ("Refund please", "I was charged twice, I want a refund of the second payment.", "Billing > Refund"),
    "r2": ("Money back", "Please refund my order, the payment went through twice.", "billing >refund"),
    "i1": ("Invoice copy", "Can you send me a copy of my invoice for March?", "Billing > Invoice"),
    "l1": ("Cannot log in", "I cannot log in, the password reset link does not work.", "Technical > Login Error"),
    "l2": (
        "Login broken",
        "Login fails with a wrong password although I reset my password.",
        "Technical > Login Error",
    ),
    "c1": ("App crashes", "The app crashes when I ask for a refund of my payment.", None),
    "u1": ("Double payment", "Please refund the double payment I was charged.", None),
    "u2": ("Hello", "A quick question about something.", None),
}


def write_help_desk(directory: Path) -> tuple[Path, Path, Path]:
    """The mailbox, the config (with the taxonomy) and the labels file of the help desk above."""
    mails = [
        Mail(f"Customer {key} <{key}@example.org>", HELP, subject, f"2026-03-0{n} 10:00", body, message_id=f"{key}@x")
        for n, (key, (subject, body, _)) in enumerate(TICKETS.items(), start=1)
    ]
    (directory / "categories.toml").write_text(TAXONOMY, encoding="utf-8")
    config = directory / "deskpulse.toml"
    config.write_text(
        f'[helpdesk]\nsupport_addresses = ["{HELP}"]\nagent_domains = ["acme.test"]\n\n'
        '[files]\ncategories = "categories.toml"\n',
        encoding="utf-8",
    )
    labels = directory / "labels.csv"
    lines = [f"<{key}@x>,{label}" for key, (_, _, label) in TICKETS.items() if label]
    labels.write_text("message_id,category\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return write_mbox(directory / "support.mbox", mails), config, labels


@pytest.fixture()
def help_desk(tmp_path: Path) -> Any:
    mbox, config_path, labels = write_help_desk(tmp_path)
    config = resolve_files(replace(parse_config(_read_toml(config_path)), source=config_path))
    store = Store.open(tmp_path / "deskpulse.duckdb")
    ingest_paths(store, config, [mbox])
    ids = {subject: ticket for ticket, subject in store.execute("SELECT ticket_id, subject FROM tickets")}
    yield store, load_taxonomy(config.files.categories), labels, {key: ids[s] for key, (s, _, _) in TICKETS.items()}
    store.close()


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(path.read_text(encoding="utf-8"))


# --- the taxonomy file --------------------------------------------------------------------------------------


def test_the_taxonomy_implies_parents_and_keeps_file_order() -> None:
    taxonomy = parse_taxonomy(_toml(TAXONOMY))
    assert taxonomy.categories == (
        "Billing",
        "Billing > Refund",
        "Billing > Invoice",
        "Technical",
        "Technical > Login Error",
        "Technical > Crash",
    )
    assert [rule.category for rule in taxonomy.rules] == ["Billing > Refund", "Technical > Crash"]
    # Names are matched whatever their case and spacing, and come back as the file spells them.
    assert taxonomy.spelled("billing >refund") == "Billing > Refund"
    assert taxonomy.spelled("Billing > Refunds") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[categories.\"Billing > Refund\"]\npatterns = ['(unclosed']",
            r"categories.toml: categories.\"Billing > Refund\".patterns\[0\]: '\(unclosed' is not a regular expression",
        ),
        ("[categories.Billing]\nkeyword = ['x']", r"categories.Billing.keyword: unknown key; known keys: description"),
        ("[settings]\nthreshold = 1.5", r"settings.threshold: must be a confidence between 0 and 1, got 1.5"),
        ("[settings]\nfeatures = 'bert'", r"settings.features: must be one of 'tfidf', 'tfidf\+minilm'"),
        ('[categories."Billing > "]', r"categories.\"Billing > \": a category name has a non-empty name"),
        ("[categories.Unclassified]", r"categories.Unclassified: 'Unclassified' is what deskpulse calls"),
        ("[categories.Billing]\nmailboxes = ['billing']", r"categories.Billing.mailboxes\[0\]: 'billing' is not an"),
        ("[categories.Billing]\ntags = 'vip'", r"categories.Billing.tags: must be a list of strings, got 'vip'"),
        (
            '[categories."Billing > A"]\n[categories."billing > B"]',
            r"categories.\"billing > B\": 'billing' is spelled 'Billing' elsewhere",
        ),
        ('[categories.Billing]\n[categories." billing"]', r"the same category as Billing"),
        ("[rules]", r"rules: unknown key"),
    ],
)
def test_taxonomy_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "categories.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(path)


def test_rules_match_by_mailbox_domain_tag_keyword_and_pattern() -> None:
    taxonomy = parse_taxonomy(
        _toml(
            """
            [categories."Billing > Refund"]
            keywords = ["money back", "refund"]
            mailboxes = ["billing@acme.test"]
            sender_domains = ["@stripe.com"]
            tags = ["Refund-Request"]
            [categories."Technical"]
            patterns = ['error\\s+\\d{3}']
            """
        )
    )

    def match(subject: str, body: str = "", **where: Any) -> tuple[str, str] | None:
        return taxonomy.match(TicketText(subject, body, **where))

    assert match("Hi", mailbox="Billing@acme.test") == (
        "Billing > Refund",
        "Billing > Refund: mailbox billing@acme.test",
    )
    assert match("Hi", sender_domain="stripe.com") == ("Billing > Refund", "Billing > Refund: sender domain stripe.com")
    assert match("Hi", tags=frozenset({"refund-request"})) == (
        "Billing > Refund",
        "Billing > Refund: tag 'refund-request'",
    )
    # A keyword is a whole word or phrase, in any case, across line breaks; "refunded" is not "refund".
    assert match("I want my MONEY\nback") == ("Billing > Refund", "Billing > Refund: keyword 'money back'")
    assert match("It was refunded") is None
    assert match("Got Error  500 again") == ("Technical", "Technical: pattern 'error\\\\s+\\\\d{3}'")


# --- rules, model, threshold --------------------------------------------------------------------------------


def test_a_prediction_keeps_the_deepest_level_at_or_above_the_threshold() -> None:
    sure_of_both = Prediction(("Billing", "Refund"), (0.9, 0.7))
    sure_of_top = Prediction(("Billing", "Refund"), (0.8, 0.3))
    unsure = Prediction(("Billing", "Refund"), (0.4, 0.2))
    assert sure_of_both.decide(0.5) == ("Billing > Refund", 0.7, False)
    # The subcategory is below 0.5: the ticket keeps its top level and is queued, so a person can add the rest.
    assert sure_of_top.decide(0.5) == ("Billing", 0.8, True)
    assert unsure.decide(0.5) == (UNCLASSIFIED, 0.4, True)


def test_rules_win_over_the_model(help_desk: Any) -> None:
    store, taxonomy, labels, ids = help_desk
    load_labels(store, labels, taxonomy)
    data = training_set(store)
    model = CategoryModel.fit(data.texts, data.paths)
    texts = ticket_texts(store)
    # c1 talks of a refund and a payment as much as of a crash: the model alone files it under Billing…
    assert model.predict([texts[ids["c1"]].text])[0].path[0] == "Billing"
    # …but the taxonomy's `crash` pattern matches, and a rule comes first.
    results = {r.ticket_id: r for r in classify_tickets(texts, {}, {}, taxonomy, model, 0.5)}
    assert (results[ids["c1"]].category, results[ids["c1"]].method) == ("Technical > Crash", "rule")
    assert results[ids["c1"]].method_detail == "Technical > Crash: pattern 'crash(es|ed)?'"
    assert results[ids["c1"]].confidence == 1.0
    # A label comes before a rule: r1 matches no rule anyway, so label it and give it a crash to prove it.
    labelled = classify_tickets(texts, {}, {ids["c1"]: "Billing > Refund"}, taxonomy, model, 0.5)
    assert next(r for r in labelled if r.ticket_id == ids["c1"]).method == "label"


def test_a_ticket_below_the_threshold_is_unclassified_and_queued(help_desk: Any) -> None:
    store, taxonomy, labels, ids = help_desk
    load_labels(store, labels, taxonomy)
    data = training_set(store)
    model = CategoryModel.fit(data.texts, data.paths)
    # u1 shares "refund", "payment" and "charged" with the Refund tickets; u2 ("a quick question about
    # something") shares nothing with any, and the model says so: about 0.6 for either top level.
    u1, u2 = model.predict([ticket_texts(store)[ids[key]].text for key in ("u1", "u2")])
    assert u1.path == ("Billing", "Refund") and u1.confidences[0] > 0.9
    assert 0.5 < u2.confidences[0] < 0.7
    summary = apply_categories(store, taxonomy, model, threshold=0.7)
    assert summary.by_method == {"label": 5, "rule": 1, "model": 2}
    assert summary.needs_review == 1
    stored = dict(store.execute("SELECT ticket_id, category FROM tickets"))
    assert (stored[ids["u1"]], stored[ids["u2"]]) == ("Billing > Refund", UNCLASSIFIED)
    [queued] = review_queue(store)
    # The queue says what the model would have said, so a reviewer starts from a suggestion.
    assert (queued["ticket_id"], queued["category"], queued["suggestion"]) == (
        ids["u2"],
        UNCLASSIFIED,
        category_name(u2.path),
    )
    assert queued["confidence"] == u2.confidences[0]


def test_a_correction_feeds_the_next_training(help_desk: Any, tmp_path: Path) -> None:
    store, taxonomy, labels, ids = help_desk
    assert load_labels(store, labels, taxonomy) == 5
    first = training_set(store)
    assert first.origins == {"label": 5}
    apply_categories(store, taxonomy, CategoryModel.fit(first.texts, first.paths), threshold=0.0)
    # What apply wrote into tickets.category is not learnt back as if a person had said it.
    assert training_set(store).ticket_ids == first.ticket_ids
    # A reviewer files u1 under Invoice and corrects i1 (a newer label replaces the older one).
    corrections = tmp_path / "corrections.csv"
    corrections.write_text(f"ticket_id,category\n{ids['u1']},Billing > Invoice\n", encoding="utf-8")
    load_labels(store, corrections, taxonomy)
    relabel = tmp_path / "relabel.csv"
    relabel.write_text("message_id,category\n<i1@x>,Technical > Login Error\n", encoding="utf-8")
    load_labels(store, relabel, taxonomy)
    assert store.execute("SELECT count(*) FROM category_labels WHERE message_id = 'i1@x'") == [(1,)]
    second = training_set(store)
    by_ticket = dict(zip(second.ticket_ids, second.paths, strict=True))
    assert by_ticket[ids["u1"]] == ("Billing", "Invoice")
    assert by_ticket[ids["i1"]] == ("Technical", "Login Error")
    assert len(second.ticket_ids) == 6
    apply_categories(store, taxonomy, CategoryModel.fit(second.texts, second.paths), threshold=0.0)
    assert store.execute("SELECT category, method FROM ticket_categories WHERE ticket_id = ?", [ids["u1"]]) == [
        ("Billing > Invoice", "label")
    ]


def test_a_large_backlog_is_predicted_by_worker_processes_with_the_same_results(help_desk: Any) -> None:
    store, taxonomy, labels, ids = help_desk
    load_labels(store, labels, taxonomy)
    data = training_set(store)
    model = CategoryModel.fit(data.texts, data.paths)
    texts = ticket_texts(store)
    few = [texts[ids[key]].text for key in ("u1", "u2", "c1", "r1")]
    # From PARALLEL_MINIMUM texts on, worker processes predict chunks of them (here two, asked for on 40 texts);
    # the answers come back in order, as computed in this process.
    assert PARALLEL_MINIMUM == 20_000
    assert model.predict(few * 10, workers=2) == model.predict(few, workers=1) * 10


def test_every_apply_is_kept_as_a_run_and_two_runs_compare(help_desk: Any) -> None:
    store, taxonomy, labels, ids = help_desk
    load_labels(store, labels, taxonomy)
    # Run 1 has no model: the five labels, the crash rule, and u1, u2 Unclassified (method none).
    assert apply_categories(store, taxonomy, None, threshold=0.7).run_id == 1
    data = training_set(store)
    model = CategoryModel.fit(data.texts, data.paths)
    # Run 2 has the model: at 0.7, u1 becomes Billing > Refund (confidence > 0.9, see above), u2 stays below.
    assert apply_categories(store, taxonomy, model, threshold=0.7).run_id == 2
    history = store.execute("SELECT run_id, count(*), count(DISTINCT model) FROM category_runs GROUP BY 1 ORDER BY 1")
    assert history == [(1, 8, 0), (2, 8, 1)]
    assert store.execute("SELECT DISTINCT model FROM category_runs WHERE run_id = 2") == [(model.model_id,)]
    comparison = compare_runs(store, "category_runs")  # the last two
    assert (comparison.before.run_id, comparison.after.run_id) == (1, 2)
    # Eight tickets in both runs; only u1 changed, from Unclassified to the model's answer.
    assert (comparison.common, comparison.changed, comparison.only_before, comparison.only_after) == (8, 1, 0, 0)
    assert comparison.changes == [(UNCLASSIFIED, "Billing > Refund", 1)]
    assert comparison.examples[(UNCLASSIFIED, "Billing > Refund")] == [ids["u1"]]
    # The same run twice compares to no change; a run that does not exist is named with the ones that do.
    assert compare_runs(store, "category_runs", 2, 2).changed == 0
    with pytest.raises(RunError, match=r"no run 7 in category_runs \(runs: 1, 2\)"):
        compare_runs(store, "category_runs", 1, 7)


def test_compare_needs_two_runs_and_prints_the_changes(tmp_path: Path) -> None:
    mbox, config, labels = write_help_desk(tmp_path)
    options = ["--db", str(tmp_path / "deskpulse.duckdb"), "--config", str(config)]
    runner = CliRunner()
    assert runner.invoke(app, [*options, "ingest", str(mbox)]).exit_code == 0
    assert runner.invoke(app, [*options, "categorize", "apply"]).exit_code == 0
    too_few = runner.invoke(app, [*options, "categorize", "compare"])
    assert isinstance(too_few.exception, RunError)
    assert "1 run(s) stored; comparing needs two" in str(too_few.exception)
    assert runner.invoke(app, [*options, "categorize", "train", "--labels", str(labels)]).exit_code == 0
    assert runner.invoke(app, [*options, "categorize", "apply", "--threshold", "0.7"]).exit_code == 0
    compared = runner.invoke(app, [*options, "categorize", "compare", "1", "2", "--format", "json"])
    assert compared.exit_code == 0, compared.output
    document = json.loads(compared.output)
    # Run 1: no labels yet, no model, so only c1 (rule) is classified; run 2 adds the 5 labels and u1 (model).
    assert (document["common"], document["changed"]) == (8, 6)
    assert {(c["before"], c["after"]) for c in document["changes"]} == {
        (UNCLASSIFIED, "Billing > Refund"),
        (UNCLASSIFIED, "Billing > Invoice"),
        (UNCLASSIFIED, "Technical > Login Error"),
    }
    assert document["before"]["model"] is None and document["after"]["model"].startswith("tfidf@")
    text = runner.invoke(app, [*options, "categorize", "compare"])
    assert "6 of 8 in both runs changed category (75.0%)" in text.output


def test_a_rebuild_keeps_the_categories_with_a_persons_label_first(help_desk: Any, tmp_path: Path) -> None:
    store, taxonomy, labels, ids = help_desk
    load_labels(store, labels, taxonomy)
    data = training_set(store)
    apply_categories(store, taxonomy, CategoryModel.fit(data.texts, data.paths), threshold=0.0)
    applied = dict(store.execute("SELECT ticket_id, category FROM tickets"))
    # A reviewer files u1 under Invoice after the model ran: the label wins at the next rebuild, which also keeps
    # everything apply wrote (it is rebuilt from `ticket_categories`, not lost with the old `tickets` rows).
    corrections = tmp_path / "corrections.csv"
    corrections.write_text(f"ticket_id,category\n{ids['u1']},Billing > Invoice\n", encoding="utf-8")
    load_labels(store, corrections, taxonomy)
    rebuild_tickets(store, parse_config({"helpdesk": {"support_addresses": [HELP], "agent_domains": ["acme.test"]}}))
    rebuilt = dict(store.execute("SELECT ticket_id, category FROM tickets"))
    assert rebuilt == {**applied, ids["u1"]: "Billing > Invoice"}
    # `deskpulse tickets` splits the path and says where it came from: u1's label, c1's rule ("crash").
    records = {r["ticket_id"]: r for r in list_tickets(store, build_calendar(store, parse_config({})))}
    u1, c1 = records[ids["u1"]], records[ids["c1"]]
    assert (u1["category"], u1["subcategory"], u1["category_source"], u1["category_confidence"]) == (
        "Billing",
        "Billing > Invoice",
        "label",
        1.0,
    )
    assert (c1["category"], c1["subcategory"], c1["category_source"]) == ("Technical", "Technical > Crash", "rule")


def test_a_help_desk_category_counts_as_truth_and_wins(help_desk: Any) -> None:
    store, taxonomy, labels, ids = help_desk
    load_labels(store, labels, taxonomy)
    # A connector set u2's category (as a help desk export would), and r1's differs from its label.
    store.execute("UPDATE tickets SET category = 'Technical > Crash' WHERE ticket_id = ?", [ids["u2"]])
    store.execute("UPDATE tickets SET category = 'Billing > Invoice' WHERE ticket_id = ?", [ids["r1"]])
    source, _ = known_categories(store)
    assert source == {ids["u2"]: "Technical > Crash", ids["r1"]: "Billing > Invoice"}
    data = training_set(store)
    assert data.origins == {"source": 2, "label": 4}
    apply_categories(store, taxonomy, CategoryModel.fit(data.texts, data.paths), threshold=0.5)
    methods = dict(store.execute("SELECT ticket_id, method FROM ticket_categories"))
    assert methods[ids["u2"]] == methods[ids["r1"]] == "source"
    # Applying again finds the same help desk categories: its own writes are told apart from the source's.
    assert known_categories(store)[0] == source


def test_a_label_naming_an_unknown_category_stops_the_load(help_desk: Any, tmp_path: Path) -> None:
    store, taxonomy, _, _ = help_desk
    bad = tmp_path / "bad.csv"
    bad.write_text("message_id,category\n<r1@x>,Billing > Refund\n<r2@x>,Billing > Refunds\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"bad.csv:3: field 'category': 'Billing > Refunds' is not a category"):
        load_labels(store, bad, taxonomy)
    assert store.execute("SELECT count(*) FROM category_labels") == [(0,)]


# --- the command line and the KPI engine --------------------------------------------------------------------


def test_categorize_apply_makes_kpis_by_category_show_the_categories(tmp_path: Path) -> None:
    mbox, config, labels = write_help_desk(tmp_path)
    db = tmp_path / "deskpulse.duckdb"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--config", str(config), "--db", str(db), *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("ingest", str(mbox))
    trained = json.loads(run("categorize", "train", "--labels", str(labels), "--format", "json"))
    assert trained["tickets"] == 5 and trained["levels"] == [2, 3]
    assert Path(trained["path"]) == tmp_path / "deskpulse.duckdb.categories.joblib"
    applied = json.loads(run("categorize", "apply", "--threshold", "0", "--format", "json"))
    assert applied["by_method"] == {"label": 5, "rule": 1, "model": 2}
    kpis = json.loads(
        run("kpis", "--period", "all", "--by", "subcategory", "--metrics", "tickets_created", "--format", "json")
    )
    created = {row["subcategory"]: row["tickets_created"]["value"] for row in kpis["rows"]}
    # Labels: Refund r1 r2, Invoice i1, Login l1 l2; the rule: Crash c1; the model: u1 (refund, payment) joins
    # Refund, and u2 has to go somewhere at threshold 0. Eight tickets in all.
    assert created["Billing > Refund"] >= 3
    assert created["Technical > Crash"] == 1
    assert created["Technical > Login Error"] >= 2
    assert sum(created.values()) == 8
    # --by category is the top level: each subcategory's tickets add up under it.
    tops = json.loads(
        run("kpis", "--period", "all", "--by", "category", "--metrics", "tickets_created", "--format", "json")
    )
    by_top = {row["category"]: row["tickets_created"]["value"] for row in tops["rows"]}
    assert by_top == {
        top: sum(n for path, n in created.items() if path.split(" > ")[0] == top) for top in ("Billing", "Technical")
    }
    with Store.open(db, read_only=True) as store:
        config_value = resolve_files(replace(parse_config(_read_toml(config)), source=config))
        query = KpiQuery(["tickets_created"], period="all", by=["subcategory"])
        engine_rows = compute_kpis(store, config_value, query)
        assert {row["subcategory"]: row["tickets_created"]["value"] for row in engine_rows.rows} == created
    review = run("categorize", "review", "--format", "csv")
    assert review.splitlines()[0] == "ticket_id,category,suggestion"


def test_evaluate_on_the_store_and_on_a_csv(tmp_path: Path) -> None:
    mbox, config, labels = write_help_desk(tmp_path)
    db = tmp_path / "deskpulse.duckdb"
    runner = CliRunner()
    base = ["--config", str(config), "--db", str(db)]
    assert runner.invoke(app, [*base, "ingest", str(mbox)]).exit_code == 0
    assert runner.invoke(app, [*base, "categorize", "train", "--labels", str(labels)]).exit_code == 0
    result = runner.invoke(app, [*base, "categorize", "evaluate", "--folds", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    # Five labelled tickets, two levels; a 2-fold CV scores every one of them once.
    assert scores["examples"] == 5 and [level["examples"] for level in scores["levels"]] == [5, 5]
    data = tmp_path / "data.csv"
    rows = [f"refund my payment {n},Billing" for n in range(8)] + [f"password reset fails {n},Tech" for n in range(4)]
    data.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = ["categorize", "evaluate", "--data", str(data), "--text", "text", "--label", "label", "--format", "json"]
    scores = json.loads(runner.invoke(app, [*base, *args, "--folds", "4"]).output)
    # Two classes that share no word: every fold's model gets all of them right. Each of the 4 folds tests
    # 2 Billing and 1 Tech and trains on 6 and 3, so the majority baseline says Billing: right 8 times in 12.
    assert (scores["accuracy"], scores["macro_f1"]) == (1.0, 1.0)
    assert scores["levels"][0]["majority_accuracy"] == round(8 / 12, 4)
    held_out = tmp_path / "test.csv"
    held_out.write_text("text,label\nplease refund me,Billing\nmy password fails,Tech\n", encoding="utf-8")
    scores = json.loads(runner.invoke(app, [*base, *args, "--test", str(held_out)]).output)
    assert (scores["folds"], scores["examples"], scores["accuracy"]) == (0, 14, 1.0)


# --- real data ----------------------------------------------------------------------------------------------


def test_the_evaluation_on_a_slice_of_real_tickets_beats_both_baselines(shared_data: Path) -> None:
    """benchmarks/categorize_eval.py on about 600 rows of each dataset (the full figures are in the docs)."""
    for dataset in ("endava-helpdesk-tickets-subset", "banking77"):
        if not (shared_data / dataset).is_dir():
            skip_or_fail(f"{shared_data / dataset} not found")
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "categorize_eval.py"), str(shared_data), "--rows", "600"],
        capture_output=True,
        text=True,
        check=True,
    )
    tables = {name: _level_rows(done.stdout, name) for name in ("endava-helpdesk-tickets-subset", "banking77")}
    for name, rows in tables.items():
        assert rows, f"{name} was not evaluated:\n{done.stdout}"
        accuracy, majority, keywords = rows[0]
        assert accuracy > keywords > majority, f"{name}: {rows[0]}"


def _level_rows(output: str, name: str) -> list[tuple[float, float, float]]:
    """(accuracy, majority accuracy, keyword accuracy) per level of one dataset's printed table."""
    block = output.split(f"\n{name}:")[1].split("\n\n")[0]
    rows = []
    for line in block.splitlines():
        cells = line.split()
        if len(cells) > 5 and cells[0].isdigit() and "/" in cells[4]:  # a level's row, not the title
            rows.append((float(cells[2]), float(cells[4].split("/")[0]), float(cells[5].split("/")[0])))
    return rows


def _toml(text: str) -> dict[str, Any]:
    import textwrap
    import tomllib

    return tomllib.loads(textwrap.dedent(text))
