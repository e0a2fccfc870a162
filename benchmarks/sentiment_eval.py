"""How well deskpulse's sentiment finds negative customer messages, on real complaints to airlines on Twitter.

The data: ../shared/data/twitter-us-airline-sentiment (or $DESKPULSE_DATA), 14,640 tweets to six US airlines,
crowd-labelled negative, neutral or positive (CC BY-NC-SA: read in place for evaluation, never copied).

Part 1 is `deskpulse sentiment evaluate` on the whole file: negative-class precision, recall and F1 of the
built-in rules (untrained), of the model `deskpulse sentiment train` builds (stratified 5-fold cross-validation)
and of calling everything negative, which is the floor: 63 % of the tweets are negative, so that alone scores an
F1 of 0.77.

Part 2 is honest about tuning. The lexicon was written for support mail in general; while it was written, only
a fixed fifth of the tweets (those whose SHA-1 of tweet_id is 0 modulo 5, the "development" part) was looked
at, and the cut-off `negative_below` was chosen there. The rules' figures on the other four fifths, never looked
at, say what to expect on new text.

Part 3 times the rules: messages per second on the tweets and on longer support mail (the demo's customer
messages, a few sentences each), single process.

    python benchmarks/sentiment_eval.py [--folds 5]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import time
from pathlib import Path

from deskpulse.config import SentimentConfig
from deskpulse.insight.sentiment import score_text
from deskpulse.insight.sentiment_model import Scores, evaluate_file

DATA = Path(os.environ.get("DESKPULSE_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
TWEETS = DATA / "twitter-us-airline-sentiment" / "Tweets.csv"


def in_development_part(tweet_id: str) -> bool:
    return int(hashlib.sha1(tweet_id.encode()).hexdigest(), 16) % 5 == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    arguments = parser.parse_args()
    if not TWEETS.is_file():
        raise SystemExit(f"{TWEETS} not found; set DESKPULSE_DATA")
    settings = SentimentConfig()

    print(
        f"Part 1: deskpulse sentiment evaluate --csv {TWEETS} --text text --label airline_sentiment --negative negative"
    )
    started = time.perf_counter()
    report = evaluate_file(TWEETS, "text", "airline_sentiment", "negative", folds=arguments.folds, settings=settings)
    print(f"  {report['examples']:,} tweets, {report['negatives']:,} negative ({time.perf_counter() - started:.0f} s)")
    for key, name in (
        ("rules", "built-in rules, untrained"),
        ("model", f"trained model, {report['folds']}-fold cross-validation"),
        ("always_negative", "everything negative (floor)"),
    ):
        scores = report[key]
        print(f"  {name:42} precision {scores['precision']:.3f}  recall {scores['recall']:.3f}  F1 {scores['f1']:.3f}")

    print("\nPart 2: the rules on the part of the tweets used while writing them, and on the rest")
    with TWEETS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for name, part in (
        ("development fifth (looked at)", [r for r in rows if in_development_part(r["tweet_id"])]),
        ("held-out four fifths (never looked at)", [r for r in rows if not in_development_part(r["tweet_id"])]),
    ):
        gold = [r["airline_sentiment"] == "negative" for r in part]
        predicted = [score_text(r["text"]).score < settings.negative_below for r in part]
        scores = Scores.of(gold, predicted)
        print(
            f"  {name:42} precision {scores.precision:.3f}  recall {scores.recall:.3f}  F1 {scores.f1:.3f}"
            f"  ({len(part):,} tweets)"
        )

    print("\nPart 3: speed of the rules (one process)")
    texts = [r["text"] for r in rows]
    _time("tweets", texts)
    _time("demo support mail", _demo_customer_texts())


def _time(name: str, texts: list[str]) -> None:
    score_text(texts[0])
    started = time.perf_counter()
    for text in texts:
        score_text(text)
    seconds = time.perf_counter() - started
    average = sum(map(len, texts)) / len(texts)
    print(
        f"  {name:20} {len(texts) / seconds:8,.0f} messages/s  ({seconds / len(texts) * 1e6:.0f} µs each, "
        f"{average:.0f} characters on average)"
    )


def _demo_customer_texts() -> list[str]:
    """The new text of every customer message of a generated demo help desk (2,000 tickets)."""
    import tempfile

    from deskpulse.config import load_config
    from deskpulse.demo import prepare_demo
    from deskpulse.ingest import ingest_paths
    from deskpulse.store import Store

    with tempfile.TemporaryDirectory() as directory:
        demo = prepare_demo(Path(directory), seed=7, tickets=2000, db=None)
        with Store.open(demo.db) as store:
            ingest_paths(store, load_config(demo.config), [demo.mbox])
            rows = store.execute("SELECT coalesce(body_text, '') FROM messages WHERE author_role = 'customer'")
    return [str(text) for (text,) in rows]


if __name__ == "__main__":
    main()
