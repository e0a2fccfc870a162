"""`[surveys]` is parsed strictly: every mistake is named by its key, and sending says what is missing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from deskpulse.config import ConfigError, load_config, parse_config
from deskpulse.store import Store
from deskpulse.surveys.send import SurveyError, link_survey, send_due_surveys
from deskpulse.surveys.settings import SurveysConfig, surveys_config
from deskpulse.surveys.tokens import SecretError, signing_key


def test_without_the_section_the_defaults_apply() -> None:
    settings = surveys_config(parse_config({}))
    assert settings == SurveysConfig()
    assert (settings.delay_hours, settings.lookback_days, settings.customer_days, settings.link_days) == (
        24,
        14,
        30,
        30,
    )
    assert not settings.sends_mail


def test_a_full_section_parses() -> None:
    config = parse_config(
        {
            "surveys": {
                "base_url": "https://desk.acme.test/",
                "delay_hours": 2,
                "return_path": "help+survey-{survey}@acme.test",
                "email": {"host": "smtp.acme.test", "from": "Acme <help@acme.test>", "user": "u", "password_env": "P"},
            }
        }
    )
    settings = surveys_config(config)
    assert settings.base_url == "https://desk.acme.test"  # the trailing slash would double in every link
    assert settings.delay_hours == 2 and settings.sends_mail
    assert settings.email is not None and (settings.email.port, settings.email.sender) == (587, "Acme <help@acme.test>")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"delay": 24}, "unknown key surveys.delay; known keys: base_url, delay_hours, "),
        ({"email": {"host": "h", "from": "a@b", "to": ["x@y"]}}, "unknown key surveys.email.to; known keys: host, "),
        ({"base_url": "http://desk.acme.test"}, "surveys.base_url: plain http would show every survey link"),
        ({"base_url": "desk.acme.test"}, "surveys.base_url must be an address such as"),
        ({"delay_hours": -1}, "surveys.delay_hours must be a whole number of at least 0, got -1"),
        ({"lookback_days": True}, "surveys.lookback_days must be a whole number of at least 1, got True"),
        (
            {"delay_hours": 48, "lookback_days": 2},
            "surveys.delay_hours (48) must be shorter than surveys.lookback_days",
        ),
        ({"low_csat_at_most": 5}, "surveys.low_csat_at_most must be at most 4"),
        ({"return_path": "bounces@acme.test"}, "surveys.return_path must contain {survey}"),
        ({"subject": "Hi\nBcc: x@y"}, "surveys.subject must be one line"),
        ({"secret_env": "NOT A NAME"}, "surveys.secret_env must be the name of an environment variable"),
        ({"email": {"host": "h", "from": "a@b", "password": "x"}}, "surveys.email.password: a password never goes"),
        ({"email": {"host": "h", "from": "nobody"}}, "surveys.email.from: 'nobody' is not an e-mail address"),
        ({"email": {"host": "h", "from": "a@b", "user": "u"}}, "surveys.email: user and password_env go together"),
    ],
)
def test_mistakes_are_named_by_their_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"surveys": section})
    assert message in str(raised.value)


def test_a_relative_ca_file_is_found_beside_the_config(tmp_path: Path) -> None:
    path = tmp_path / "deskpulse.toml"
    path.write_text('[surveys.email]\nhost = "h"\nfrom = "a@acme.test"\nca_file = "ca.pem"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"surveys.email.ca_file: {tmp_path / 'ca.pem'} does not exist"):
        surveys_config(load_config(path))
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    email = surveys_config(load_config(path)).email
    assert email is not None and email.ca_file == tmp_path / "ca.pem"


def test_sending_and_linking_say_what_is_missing() -> None:
    state = sqlite3.connect(":memory:")
    with Store.open(None) as store:
        with pytest.raises(SurveyError, match=r"\[surveys.email\] is not configured"):
            send_due_surveys(store, parse_config({"surveys": {"base_url": "https://desk.acme.test"}}), state)
        no_url = parse_config({"surveys": {"email": {"host": "h", "from": "a@acme.test"}}})
        with pytest.raises(SurveyError, match=r"surveys\.base_url is not set"):
            send_due_surveys(store, no_url, state)
        with pytest.raises(SurveyError, match=r"surveys\.base_url is not set"):
            link_survey(store, no_url, state, "T-1")


def test_a_signing_key_from_the_environment_must_be_long_enough() -> None:
    state = sqlite3.connect(":memory:")
    with pytest.raises(SecretError, match=r"\$SURVEY_KEY must hold .* it is not set"):
        signing_key(state, "SURVEY_KEY", {})
    with pytest.raises(SecretError, match="it is too short"):
        signing_key(state, "SURVEY_KEY", {"SURVEY_KEY": "short"})
    assert signing_key(state, "SURVEY_KEY", {"SURVEY_KEY": "x" * 40}) == b"x" * 40
    # Without a variable, the state file's key: made once, the same afterwards.
    made = signing_key(state, None, {})
    assert len(made) == 32 and signing_key(state, None, {}) == made
