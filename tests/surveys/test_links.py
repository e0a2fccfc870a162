"""Survey links are the only credential: forged, altered, truncated, misused or expired links get a clear page and
store nothing, over HTTP against the running app. And the "link only" mode: `deskpulse surveys link TICKET`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from tests.surveys.conftest import Desk, links

from deskpulse.state import connect_state, state_path
from deskpulse.surveys.send import SurveyError
from deskpulse.surveys.tokens import ANSWER, InvalidToken, Token, sign, signing_key, verify

BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _key(desk: Desk) -> bytes:
    state = connect_state(state_path(desk.db))
    try:
        return signing_key(state, None, {})
    finally:
        state.close()


def _altered(token: str, position: int) -> str:
    """The token with one character replaced by another base64url character."""
    replacement = BASE64URL[(BASE64URL.index(token[position]) + 1) % len(BASE64URL)]
    return token[:position] + replacement + token[position + 1 :]


def test_links_that_do_not_work_store_nothing(desk: Desk) -> None:
    desk.send("2026-03-05T12:00")
    carla = links(desk.mail_to("carla@example.org"))
    good = carla["2"].split("/survey/")[1].split("?")[0]
    opt_out = carla["opt-out"].split("/survey/")[1].removesuffix("/opt-out")
    key = _key(desk)
    genuine = verify(key, good, ANSWER)
    payload = good.split(".")[0]
    year_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=365)

    def token(survey_id: str, ticket_id: str, expires_at: datetime) -> str:
        return sign(key, Token(survey_id, ticket_id, ANSWER, expires_at))

    invalid, expired, unknown = "This link does not work", "This survey has closed", "Unknown survey"
    cases = {
        "payload altered": (_altered(good, 5), 400, invalid),
        "signature altered": (_altered(good, len(payload) + 3), 400, invalid),
        "truncated": (good[:-4], 400, invalid),
        "no signature": (payload, 400, invalid),
        "opt-out token to answer": (opt_out, 400, invalid),
        "signed with another key": (sign(b"k" * 32, genuine), 400, invalid),
        "expired": (token(genuine.survey_id, genuine.ticket_id, year_ago), 410, expired),
        "another ticket": (token(genuine.survey_id, "T-000000000000", genuine.expires_at), 404, unknown),
        "never sent": (token("dp-0000000000000000", genuine.ticket_id, genuine.expires_at), 404, unknown),
    }
    rows, sends = desk.surveys_rows(), desk.state("SELECT * FROM survey_sends")
    with httpx.Client(base_url=desk.url) as client:
        for case, (token, status, words) in cases.items():
            page = client.get(f"/survey/{token}", params={"csat": "5"})
            assert (page.status_code, words in page.text) == (status, True), case
            answer = client.post(f"/survey/{token}", data={"csat": "5", "ces": "7", "comment": "forged"})
            assert answer.status_code == status, case
        # The answer token is no opt-out token either.
        assert client.post(f"/survey/{good}/opt-out").status_code == 400
        # A genuine token with a score off the scale: the page says what is wrong, nothing is stored.
        wrong = client.post(f"/survey/{good}", data={"csat": "9"})
        assert wrong.status_code == 400 and "CSAT must be from 1 to 5, got 9" in wrong.text
        no_csat = client.post(f"/survey/{good}", data={"ces": "4"})
        assert no_csat.status_code == 400 and "Please choose how satisfied you are" in no_csat.text
        # A mangled score in the link only leaves the choice to the customer: nothing chosen, nothing posted.
        mangled = client.get(f"/survey/{good}", params={"csat": "9"})
        assert mangled.status_code == 200 and 'data-auto="0"' in mangled.text and "checked" not in mangled.text
        # A form posted from another site is refused, though its token is genuine.
        foreign = client.post(f"/survey/{good}", data={"csat": "1"}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
    assert desk.surveys_rows() == rows
    assert desk.state("SELECT * FROM survey_sends") == sends
    assert desk.state("SELECT * FROM survey_opt_outs") == []


@pytest.mark.parametrize("position", range(0, 120, 7))
def test_no_single_character_changes_a_token_into_another_valid_one(position: int) -> None:
    key = b"s" * 32
    token = sign(key, Token("dp-0123456789abcdef", "T-0123456789ab", ANSWER, datetime(2099, 1, 1)))
    assert len(token) > 120 - 7
    with pytest.raises(InvalidToken):
        verify(key, _altered(token, position), ANSWER)


def test_link_only_mode_prints_a_link_that_answers_like_a_mailed_one(desk: Desk) -> None:
    # "Another parcel" (Dan, ben's ticket, resolved Fri 6 Mar 09:30) has no survey yet.
    ticket = desk.cli("tickets", "--format", "csv").splitlines()
    [another_parcel] = [line.split(",")[0] for line in ticket if "Another parcel" in line]

    first = desk.cli("surveys", "link", another_parcel).strip()
    again = desk.cli("surveys", "link", another_parcel).strip()
    assert first.startswith(f"{desk.url}/survey/") and again.startswith(f"{desk.url}/survey/")
    # One survey for the ticket, however often the link is asked for, recorded as sent now.
    [(survey_id, channel, agent)] = desk.state("SELECT survey_id, channel, agent FROM survey_sends")
    assert (channel, agent) == ("link", "ben@acme.test")
    assert verify(_key(desk), again.split("/survey/")[1], ANSWER).survey_id == survey_id
    assert desk.kpis()["survey_response_rate"] == (0.0, 1)

    with httpx.Client() as client:
        page = client.get(first)
        assert page.status_code == 200 and 'data-auto="0"' in page.text  # no score chosen in the link
        assert client.post(first, data={"csat": "1", "ces": "2"}).status_code == 200
    # Credited to ben, the assignee when the link was made: csat 0 of 1, ces 2, answered 1 of 1.
    assert desk.kpis() == {"csat": (0.0, 1), "ces": (2.0, 1), "survey_response_rate": (1.0, 1)}

    # An unknown ticket is a user error that names it (`deskpulse` prints it as one line and exits with 2).
    unknown = desk.invoke("surveys", "link", "T-000000000000")
    assert isinstance(unknown.exception, SurveyError)
    assert str(unknown.exception).startswith("no ticket T-000000000000 in the store")
