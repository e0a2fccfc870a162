"""The signed tokens of survey links, on their own: what is signed comes back, nothing else is accepted."""

from __future__ import annotations

from datetime import datetime

import pytest

from deskpulse.surveys.tokens import ANSWER, OPT_OUT, ExpiredToken, InvalidToken, Token, sign, verify

KEY = b"k" * 32
TOKEN = Token("dp-0123456789abcdef", "T-0123456789ab", ANSWER, datetime(2026, 4, 4, 12, 0))


def test_a_signed_token_verifies_to_what_was_signed_until_it_expires() -> None:
    text = sign(KEY, TOKEN)
    assert verify(KEY, text, ANSWER, now=datetime(2026, 4, 4, 11, 59, 59)) == TOKEN
    # Expired from its expiry on: a genuine token, refused for its age (a page of its own), not as a forgery.
    with pytest.raises(ExpiredToken, match="expired at 2026-04-04 12:00 UTC"):
        verify(KEY, text, ANSWER, now=datetime(2026, 4, 4, 12, 0))
    # Only characters a URL path carries as they are.
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@pytest.mark.parametrize(
    "text",
    ["", ".", "abc", "abc.", ".abc", "a.b", "é.é", sign(KEY, TOKEN) + "A", "x" + sign(KEY, TOKEN)],
    ids=["empty", "dot", "no dot", "no signature", "no payload", "short", "not ascii", "appended", "prepended"],
)
def test_anything_else_is_invalid(text: str) -> None:
    with pytest.raises(InvalidToken):
        verify(KEY, text, ANSWER, now=datetime(2026, 4, 1))


def test_a_token_is_good_for_its_purpose_and_key_only() -> None:
    opt_out = sign(KEY, Token(TOKEN.survey_id, TOKEN.ticket_id, OPT_OUT, TOKEN.expires_at))
    assert verify(KEY, opt_out, OPT_OUT, now=datetime(2026, 4, 1)).purpose == OPT_OUT
    with pytest.raises(InvalidToken, match="not a token for answer"):
        verify(KEY, opt_out, ANSWER, now=datetime(2026, 4, 1))
    with pytest.raises(InvalidToken, match="the signature does not match"):
        verify(b"another key of thirty-two bytes!", sign(KEY, TOKEN), ANSWER, now=datetime(2026, 4, 1))
