"""Which customer messages are mere acknowledgements: they neither hold a ticket open nor reopen it (§1.6)."""

from __future__ import annotations

import ibis
import pytest

from deskpulse.status import is_acknowledgement

ACKNOWLEDGEMENTS = [
    "Thanks, that fixed it!",
    "Hi,\n\nThanks, that fixed it!\n\nDora",
    "Good morning,\n\nPerfect, it works now. Thank you! 🙏",
    "Dear Acme Support,\n\nGreat, all sorted. Thanks so much, great support!",
    "That did the trick, thanks for the quick help.",
    "Hallo,\n\nVielen Dank, jetzt funktioniert es!",
    "Danke, das hat geklappt.",
    "Thanks for letting me know.",
    "Thank you!",
    "thx",
    "Merci beaucoup !",
    "Many thanks again, much appreciated.",
]

NOT_ACKNOWLEDGEMENTS = [
    "Thanks, but it still fails.",
    "Thank you! Could you also add our PO number?",
    "Thanks. Please send me the invoice as well.",
    "Great, now I get an error on login.",
    "Thanks, it doesn't work on my phone.",
    "Thanks, the problem is back since this morning.",
    "Unfortunately it's still not working.\n\nThanks,\nCarla",
    "Hi, just following up on my message from last week.\n\nThank you!\nLaura",
    "Any update on this?\n\nThanks,\nŁukasz",
    "Hermes says they don't have the parcel.\n\nThank you!\nWei",
    "Danke, aber es geht immer noch nicht.",
    "Yes, it works again now.",  # no thanks, no confirmation word up front: kept as a customer message
    "Thanksgiving orders are missing.",
    "Thanks! " + "Here is the whole log you asked for. " * 10,  # too long to be only an acknowledgement
]


def _classify(texts: list[str], role: str = "customer") -> list[bool]:
    messages = ibis.memtable({"body_text": texts, "author_role": [role] * len(texts)})
    result = messages.select(ack=is_acknowledgement(messages))
    return list(ibis.duckdb.connect().to_pyarrow(result).column("ack").to_pylist())


@pytest.mark.parametrize("text", ACKNOWLEDGEMENTS)
def test_thanks_and_confirmations_are_acknowledgements(text: str) -> None:
    assert _classify([text]) == [True]


@pytest.mark.parametrize("text", NOT_ACKNOWLEDGEMENTS)
def test_questions_requests_and_new_problems_are_not(text: str) -> None:
    assert _classify([text]) == [False]


def test_only_customers_acknowledge() -> None:
    assert _classify(["Thanks, that fixed it!"], role="agent") == [False]
    assert _classify(["Thanks, that fixed it!"], role="automation") == [False]
