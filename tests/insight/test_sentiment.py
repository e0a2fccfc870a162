"""Customer sentiment: the support rules, ticket sentiment and trajectory, the review queue, the trained model.

Rule scores are worked out by hand from docs/sentiment.md: a message's valences are added up (lexicon words,
phrase rules), then the sum is scaled by emphasis (1 + 0.08 per "!" up to four, + 0.15 for repeated "!!"/"??")
and squashed: score = tanh(sum × emphasis / 3). Valences used below (src/deskpulse/insight/sentiment_lexicon.py):
helpful +2.2, love +2.4, quick +1.4, unacceptable −2.8, disappointed −2.2 (× 1.3 after "really"); phrases
"not working" −2.0, "still not" −2.4, "third time" −2.2, chargeback −3.5, lawyer −3.5, "not fixed" −2.4,
"thank you so much" +2.2. A negated positive word counts −0.7 × its valence; capitals count 1.5 ×.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import skip_or_fail
from tests.mailbuilder import Mail, conversation, write_mbox
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.columns import arrow_table
from deskpulse.config import Config, ConfigError, SentimentConfig, parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.insight.flags import list_flags, review
from deskpulse.insight.sentiment import score_text
from deskpulse.insight.sentiment_data import TrainingSet, add_csat_comments, read_training_csv
from deskpulse.insight.sentiment_model import (
    Scores,
    cross_validate,
    evaluate_rules,
    load,
    model_path,
    save,
    train,
)
from deskpulse.insight.sentiment_store import PARALLEL_MINIMUM, _rule_scores, score_store, ticket_sentiment
from deskpulse.metrics.facts import build_calendar, list_tickets
from deskpulse.schema import SURVEYS
from deskpulse.store import Store

HELP = "help@acme.test"
CARLA = "Carla Customer <carla@example.org>"
DORA = "Dora Doe <dora@example.net>"
ANA = "Ana Agent <ana@acme.test>"
CONFIG = parse_config({"helpdesk": {"support_addresses": [HELP], "agent_domains": ["acme.test"]}})


def scaled(total: float, emphasis: float = 1.0) -> float:
    return round(math.tanh(total * emphasis / 3), 4)


# ---------------------------------------------------------------------------------------------------------
# The rules


def test_negation_flips_a_word() -> None:
    assert score_text("The agent was helpful.").score == scaled(2.2)  # 0.6251
    not_helpful = score_text("The agent was not helpful.")
    assert not_helpful.score == scaled(-0.7 * 2.2)  # −0.4725
    assert not_helpful.label == "negative"
    assert not_helpful.reasons == ("negated: 'not helpful'",)


def test_still_not_working_third_time_and_chargeback_raise_negativity() -> None:
    assert score_text("The app is not working.").score == scaled(-2.0)  # −0.5828
    # "still not" (unresolved) and "not working" (broken) overlap, and both count: −2.4 − 2.0.
    still = score_text("The app is still not working.")
    assert still.score == scaled(-4.4)  # −0.8989
    assert still.signals == ("unresolved", "broken")

    assert score_text("I am writing about my order.").score == 0.0
    third = score_text("This is the third time I am writing about my order.")
    assert third.score == scaled(-2.2)  # −0.6251
    assert third.reasons == ("repeat contact: 'third time'",)

    chargeback = score_text("I will file a chargeback with my bank.")
    assert chargeback.score == scaled(-3.5)  # −0.8232
    assert chargeback.signals == ("chargeback",)
    legal = score_text("If this is not fixed I will talk to my lawyer.")
    assert legal.score == scaled(-3.5 - 2.4)  # −0.9616
    assert legal.reasons[0] == "legal threat: 'lawyer'"


def test_capitals_and_repeated_punctuation_make_it_stronger() -> None:
    assert score_text("Your support is unacceptable.").score == scaled(-2.8)  # −0.7321
    # Capitals 1.5 ×; three "!" and a repeat: emphasis 1 + 3 × 0.08 + 0.15 = 1.39.
    shouted = score_text("Your support is UNACCEPTABLE!!!")
    assert shouted.score == scaled(-2.8 * 1.5, 1.39)  # −0.9600
    assert "repeated punctuation: '!!!'" in shouted.reasons


def test_thanks_inside_a_complaint_is_manners_not_praise() -> None:
    assert score_text("Thanks.").label == "positive"
    # "Still broken" (unresolved, −2.4) + "Thanks" at a quarter of +1.6: −2.0.
    assert score_text("Still broken. Thanks.").score == scaled(-2.4 + 0.25 * 1.6)  # −0.5828


# ---------------------------------------------------------------------------------------------------------
# The store: only the new text, ticket sentiment and trajectory, flags


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "deskpulse.duckdb") as opened:
        yield opened


def ingest(store: Store, tmp_path: Path, mails: list[Mail], name: str = "mail.mbox") -> None:
    ingest_paths(store, CONFIG, [write_mbox(tmp_path / name, mails)], workers=0)


def sentiment_of(store: Store, message_key: str) -> dict[str, Any]:
    rows = store.arrow(store.table("message_sentiment").filter(lambda t: t.message_key == message_key))
    [row] = rows.to_pylist()
    return dict(row)


ANGRY = "My invoice is wrong and nobody answers. This is ridiculous!"
THANKFUL = "Thank you so much, that was quick!"


def test_the_quoted_history_is_not_scored(store: Store, tmp_path: Path) -> None:
    quoted_reply = f"{THANKFUL}\n\nOn Mon, 12 Jan 2026 at 10:00, Carla Customer <carla@example.org> wrote:\n> {ANGRY}"
    ingest(
        store,
        tmp_path,
        conversation(
            "invoice",
            "Invoice",
            CARLA,
            ("2026-01-12 10:00", CARLA, ANGRY),
            ("2026-01-12 11:00", ANA, "Corrected, sorry for the trouble."),
            ("2026-01-12 12:00", CARLA, quoted_reply),
        ),
    )
    score_store(store, CONFIG, None)
    # "Thank you so much" (+2.2) and "quick" (+1.4), one "!": tanh(3.6 × 1.08 / 3) = 0.8607. Had the angry quote
    # been read too, the message would score negative.
    assert sentiment_of(store, "invoice-3@example.org")["score"] == scaled(3.6, 1.08)
    assert score_text(quoted_reply).score < 0
    assert sentiment_of(store, "invoice-1@example.org")["label"] == "negative"
    # Only customer messages are scored.
    assert store.count("message_sentiment") == 2


WORSENING = conversation(
    "export",
    "Exporting invoices",
    CARLA,
    ("2026-01-12 10:00", CARLA, "Hello, I love your product. How do I export my invoices?"),
    ("2026-01-12 11:00", ANA, "Use Settings > Export."),
    ("2026-01-13 09:00", CARLA, "I followed your steps and it is still not working. Really disappointed."),
)


def test_a_worsening_thread_flags_the_ticket_with_that_reason(store: Store, tmp_path: Path) -> None:
    ingest(store, tmp_path, WORSENING)
    summary = score_store(store, CONFIG, None)
    assert (summary.scored, summary.flags.raised, summary.flags.open) == (2, 1, 1)

    # First message: "love" +2.4 → tanh(0.8) = 0.6640. Last: "still not" −2.4, "not working" −2.0,
    # "really disappointed" −2.2 × 1.3 = −2.86; sum −7.26 → −0.9843. The ticket weighs the k-th message k times:
    # (0.6640 + 2 × −0.9843) / 3 = −0.4349, not below flag_below (−0.5); but the mood fell by 1.6483, more than
    # worsening_drop (0.6), and the last message is negative: flagged for getting worse.
    [ticket] = store.arrow(ticket_sentiment(store, CONFIG.sentiment)).to_pylist()
    assert (ticket["first_score"], ticket["last_score"]) == (0.664, -0.9843)
    assert ticket["sentiment"] == round((0.664 + 2 * -0.9843) / 3, 4)
    assert ticket["sentiment_change"] == -1.6483
    assert ticket["sentiment_label"] == "negative"
    [flag] = list_flags(store)
    assert flag["message_key"] == "export-3@example.org"
    assert flag["reason"] == "getting worse: +0.66 → -0.98 over 2 customer messages"
    assert flag["raised_at"] == datetime(2026, 1, 13, 9, 0)
    assert flag["subject"] == "Exporting invoices"
    # What `deskpulse tickets` shows of it.
    [record] = list_tickets(store, build_calendar(store, CONFIG))
    assert (record["sentiment"], record["sentiment_label"], record["sentiment_change"]) == (
        ticket["sentiment"],
        "negative",
        -1.6483,
    )
    assert (record["flagged"], record["open_flags"], record["flag_reasons"]) == (True, 1, flag["reason"])

    # A stricter drop no longer flags it: thresholds come from [sentiment].
    strict = Config(helpdesk=CONFIG.helpdesk, sentiment=SentimentConfig(worsening_drop=1.7))
    assert score_store(store, strict, None).flags.withdrawn == 1
    assert list_flags(store) == []


def test_flags_are_idempotent_and_a_reviewed_flag_stays_reviewed(store: Store, tmp_path: Path) -> None:
    ingest(store, tmp_path, WORSENING)
    score_store(store, CONFIG, None)
    again = score_store(store, CONFIG, None)
    assert (again.scored, again.flags.raised, again.flags.refreshed, again.flags.open) == (0, 0, 1, 1)
    assert store.count("ticket_flags") == 1

    [flag] = list_flags(store)
    assert review(store, flag["ticket_id"], "maria@acme.test", at=datetime(2026, 1, 14, 8, 0)) == 1
    rescored = score_store(store, CONFIG, None, rescore=True)
    assert (rescored.scored, rescored.flags.raised, rescored.flags.open) == (2, 0, 0)
    [kept] = list_flags(store, include_reviewed=True)
    assert (kept["state"], kept["reviewed_by"], kept["reviewed_at"]) == (
        "reviewed",
        "maria@acme.test",
        datetime(2026, 1, 14, 8, 0),
    )

    # The customer writes again, threatening to leave: a new message, so a new open flag beside the reviewed one.
    follow_up = Mail(
        CARLA,
        HELP,
        "Re: Exporting invoices",
        "2026-01-15 09:00",
        body="Nothing has changed. I will cancel my subscription.\n",
        message_id="export-4@example.org",
        in_reply_to="export-3@example.org",
        references=["export-1@example.org", "export-3@example.org"],
    )
    ingest(store, tmp_path, [follow_up], "follow-up.mbox")
    assert score_store(store, CONFIG, None).flags.raised == 1
    states = {(f["message_key"], f["state"]) for f in list_flags(store, include_reviewed=True)}
    assert states == {("export-3@example.org", "reviewed"), ("export-4@example.org", "open")}
    [new] = list_flags(store)
    assert new["reason"].startswith("threatens to leave: 'will cancel my subscription'")


def test_a_threat_flags_even_a_ticket_that_calmed_down(store: Store, tmp_path: Path) -> None:
    ingest(
        store,
        tmp_path,
        conversation(
            "card",
            "Double charge",
            DORA,
            ("2026-02-02 10:00", DORA, "You charged me twice. Refund it or I will file a chargeback."),
            ("2026-02-02 11:00", ANA, "Refunded."),
            ("2026-02-02 12:00", DORA, "Thanks, all good now."),
        ),
    )
    score_store(store, CONFIG, None)
    [flag] = list_flags(store)
    assert flag["message_key"] == "card-1@example.net"
    assert flag["reason"] == "chargeback threat: 'chargeback'"
    without_threats = Config(helpdesk=CONFIG.helpdesk, sentiment=SentimentConfig(flag_threats=False))
    score_store(store, without_threats, None)
    assert list_flags(store) == []


def test_the_sentiment_config_is_checked() -> None:
    assert parse_config({"sentiment": {"flag_below": -0.3}}).sentiment.flag_below == -0.3
    with pytest.raises(ConfigError, match=r"sentiment\.flag_below must be a number from -1 to 1"):
        parse_config({"sentiment": {"flag_below": -2}})
    with pytest.raises(ConfigError, match=r"negative_below .* must be below positive_above"):
        parse_config({"sentiment": {"negative_below": 0.5, "positive_above": 0.2}})


# ---------------------------------------------------------------------------------------------------------
# The command line


def test_the_commands_score_list_and_review(tmp_path: Path) -> None:
    db = tmp_path / "deskpulse.duckdb"
    config = tmp_path / "deskpulse.toml"
    config.write_text(f'[helpdesk]\nsupport_addresses = ["{HELP}"]\nagent_domains = ["acme.test"]\n')
    with Store.open(db) as opened:
        ingest(opened, tmp_path, WORSENING)
    runner = CliRunner()
    options = ["--db", str(db), "--config", str(config)]

    scored = runner.invoke(app, [*options, "sentiment", "score", "--format", "json"])
    assert scored.exit_code == 0, scored.output
    assert '"open_flags": 1' in scored.output
    listed = runner.invoke(app, [*options, "flags", "--format", "csv"])
    assert listed.exit_code == 0, listed.output
    [row] = list(csv.DictReader(listed.output.splitlines()))
    assert row["reason"] == "getting worse: +0.66 → -0.98 over 2 customer messages"
    reviewed = runner.invoke(app, [*options, "flags", "--review", row["ticket_id"], "--by", "maria"])
    assert reviewed.exit_code == 0, reviewed.output
    assert "1 flag marked reviewed by maria" in reviewed.output
    assert "0 open flags" in runner.invoke(app, [*options, "flags"]).output


def test_every_score_run_is_kept_and_two_runs_compare(tmp_path: Path) -> None:
    db = tmp_path / "deskpulse.duckdb"
    config = tmp_path / "deskpulse.toml"
    helpdesk = f'[helpdesk]\nsupport_addresses = ["{HELP}"]\nagent_domains = ["acme.test"]\n'
    config.write_text(helpdesk)
    with Store.open(db) as opened:
        ingest(opened, tmp_path, WORSENING)
    runner = CliRunner()
    options = ["--db", str(db), "--config", str(config)]
    first = runner.invoke(app, [*options, "sentiment", "score", "--format", "json"])
    assert '"run_id": 1' in first.output and '"scored": 2' in first.output
    # Nothing new to score: no run is recorded.
    assert '"run_id": null' in runner.invoke(app, [*options, "sentiment", "score", "--format", "json"]).output
    # Raise the positive line above the first message's 0.664 (see above) and score everything again: that message
    # turns neutral; the last (−0.9843) stays negative.
    config.write_text(helpdesk + "\n[sentiment]\npositive_above = 0.7\n")
    second = runner.invoke(app, [*options, "sentiment", "score", "--rescore", "--format", "json"])
    assert '"run_id": 2' in second.output, second.output
    compared = runner.invoke(app, [*options, "sentiment", "compare", "--format", "json"])
    assert compared.exit_code == 0, compared.output
    document = json.loads(compared.output)
    assert (document["before"]["run_id"], document["after"]["run_id"]) == (1, 2)
    assert (document["common"], document["changed"], document["changed_share"]) == (2, 1, 0.5)
    assert [(c["before"], c["after"], c["count"], c["examples"]) for c in document["changes"]] == [
        ("positive", "neutral", 1, ["export-1@example.org"])
    ]
    with Store.open(db, read_only=True) as opened:
        # The current state holds one row per message; the history one per message and run.
        assert opened.execute("SELECT count(*) FROM message_sentiment") == [(2,)]
        assert opened.execute("SELECT run_id, count(*) FROM sentiment_runs GROUP BY 1 ORDER BY 1") == [(1, 2), (2, 2)]


def test_a_large_store_is_scored_by_worker_processes_with_the_same_results() -> None:
    texts = [ANGRY, THANKFUL, "still not working, third time I write", "Where is the API key?"] * 3
    batches = [
        (["a", "b", "c"], texts[0:3]),
        (["d", "e", "f", "g"], texts[3:7]),
        ([f"k{n}" for n in range(5)], texts[7:]),
    ]
    # At PARALLEL_MINIMUM messages the batches go to worker processes; they must come back in order, unchanged.
    parallel = list(_rule_scores(iter(batches), PARALLEL_MINIMUM, -0.1, 0.1))
    sequential = list(_rule_scores(iter(batches), 0, -0.1, 0.1))
    assert [keys for keys, _ in parallel] == [keys for keys, _ in batches]
    assert parallel == sequential
    assert [r.label for r in sequential[0][1]] == ["negative", "positive", "negative"]


# ---------------------------------------------------------------------------------------------------------
# The trained model


NEGATIVE_TEXTS = [
    "The export keeps failing and support never answers.",
    "I was charged twice and nobody will refund me.",
    "Your app crashes every single time I open it.",
    "Still waiting for my replacement, this is a joke.",
    "The invoice is wrong again, I am very annoyed.",
    "Login is broken since the update, terrible.",
]
NEUTRAL_TEXTS = [
    "How do I change the billing address on my account?",
    "Please send me a copy of the March invoice.",
    "Which plan includes the export feature?",
    "Can I add a second user to the workspace?",
    "What are your opening hours on Saturday?",
    "Where do I find the API key?",
]
POSITIVE_TEXTS = [
    "Thanks, the export works perfectly now.",
    "Great support, the problem was solved in minutes.",
    "Thank you for the quick refund, much appreciated.",
    "Everything works again, you are the best.",
    "Lovely service, the new plan is exactly what we need.",
    "Brilliant, the invoice is correct now, thank you.",
]


def test_a_model_trained_on_our_labels_and_csat_comments_scores_the_store(store: Store, tmp_path: Path) -> None:
    ingest(store, tmp_path, WORSENING)
    labelled = tmp_path / "labels.csv"
    with labelled.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "message_id", "label"])
        for label, texts in (("negative", NEGATIVE_TEXTS), ("neutral", NEUTRAL_TEXTS), ("positive", POSITIVE_TEXTS)):
            writer.writerows([text, "", label] for text in texts[:5])
        # A line may name a stored message instead of quoting it.
        writer.writerow(["", "<export-3@example.org>", "negative"])
    # CSAT answers with a comment are weak labels: 1 → negative, 5 → positive; one without a comment is no example.
    comments = [(NEGATIVE_TEXTS[5], 1), (POSITIVE_TEXTS[5], 5), (None, 2)]
    store.insert_new(
        "surveys",
        arrow_table(
            SURVEYS,
            {
                "survey_id": [f"s{n}" for n in range(3)],
                "ticket_id": [None] * 3,
                "message_id": ["export-1@example.org"] * 3,
                "kind": ["csat"] * 3,
                "scale": ["1-5"] * 3,
                "agent": [None] * 3,
                "sent_at": [None] * 3,
                "delivered": [True] * 3,
                "answered_at": [datetime(2026, 1, 20)] * 3,
                "score": [score for _, score in comments],
                "comment": [comment for comment, _ in comments],
                "source": ["test"] * 3,
            },
        ),
    )
    examples = TrainingSet()
    read_training_csv(labelled, store, examples)
    add_csat_comments(store, examples)
    assert dict(examples.sources) == {str(labelled): 16, "csat comments": 2}
    assert examples.texts[15] == "I followed your steps and it is still not working. Really disappointed."

    path = model_path(tmp_path / "deskpulse.duckdb")
    assert path == tmp_path / "deskpulse.sentiment-model.pickle"
    saved = save(train(examples.texts, examples.labels, dict(examples.sources)), path)
    assert saved.examples == {"negative": 7, "neutral": 5, "positive": 6}
    model = load(path)
    assert model is not None and model.model_id == saved.model_id

    summary = score_store(store, CONFIG, model)
    assert summary.method == saved.model_id and summary.scored == 2
    last = sentiment_of(store, "export-3@example.org")
    assert last["label"] == "negative" and last["reasons"][0].startswith("model: ")
    # The rules' signals stay with the score, so threats still flag under a model.
    assert "unresolved" in last["signals"]


def test_training_refuses_a_label_it_does_not_know(tmp_path: Path) -> None:
    labelled = tmp_path / "labels.csv"
    labelled.write_text("text,label\nIt broke,angry\n")
    with pytest.raises(ValueError, match=r"labels.csv:2: field 'label': 'angry' is not a label"):
        read_training_csv(labelled, None, TrainingSet())


# ---------------------------------------------------------------------------------------------------------
# Real complaints


def test_on_real_airline_complaints_the_rules_and_the_model_find_the_negative_ones(shared_data: Path) -> None:
    tweets = shared_data / "twitter-us-airline-sentiment" / "Tweets.csv"
    if not tweets.is_file():
        skip_or_fail(f"{tweets} not found")
    with tweets.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))[::10]  # every tenth tweet: 1,464, fast enough for every run
    texts = [row["text"] for row in rows]
    gold = [row["airline_sentiment"] == "negative" for row in rows]
    floor = Scores.of(gold, [True] * len(gold))  # calling everything negative: F1 about 0.77 on these tweets
    rules = evaluate_rules(texts, gold)
    # The whole file gives 0.889 / 0.730 / 0.802 (benchmarks/sentiment_eval.py); a tenth varies a little.
    assert rules.precision >= 0.85 > floor.precision + 0.2
    assert rules.f1 >= 0.75
    model = cross_validate(texts, [row["airline_sentiment"] for row in rows], folds=3)
    assert model.f1 >= 0.82 > floor.f1
