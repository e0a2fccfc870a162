"""`[alerts]` in deskpulse.toml: defaults, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskpulse.alerts.settings import ALERT_KINDS, AlertsConfig, EmailConfig, WebhookConfig, alerts_config
from deskpulse.config import ConfigError, load_config, parse_config

EMAIL = {"host": "smtp.acme.test", "from": "alerts@acme.test", "to": ["lead@acme.test"]}


def test_without_the_section_the_defaults_apply() -> None:
    settings = alerts_config(parse_config({}))
    assert settings == AlertsConfig()
    assert (settings.kinds, settings.lookback_hours, settings.cooldown_minutes) == (ALERT_KINDS, 24, 360)
    assert settings.sla_targets == ("first_reply", "resolution")
    assert settings.channels == ()


def test_webhooks_and_email_become_channels(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not read here")
    (tmp_path / "deskpulse.toml").write_text(
        """
[alerts]
cooldown_minutes = 60
[[alerts.webhooks]]
name = "support"
url_env = "SLACK_SUPPORT_URL"
[[alerts.webhooks]]
name = "local"
url = "http://127.0.0.1:9000/hook"
[alerts.email]
host = "smtp.acme.test"
user = "alerts@acme.test"
password_env = "DESKPULSE_SMTP_PASSWORD"
from = "deskpulse <alerts@acme.test>"
to = ["lead@acme.test"]
ca_file = "ca.pem"
"""
    )
    settings = alerts_config(load_config(tmp_path / "deskpulse.toml"))
    assert settings.webhooks == (
        WebhookConfig("support", url_env="SLACK_SUPPORT_URL"),
        WebhookConfig("local", url="http://127.0.0.1:9000/hook"),
    )
    # The CA file is found beside the config file.
    assert settings.email == EmailConfig(
        "smtp.acme.test",
        "deskpulse <alerts@acme.test>",
        ("lead@acme.test",),
        587,
        "alerts@acme.test",
        "DESKPULSE_SMTP_PASSWORD",
        tmp_path / "ca.pem",
    )
    assert settings.channels == ("webhook:support", "webhook:local", "email")


@pytest.mark.parametrize(
    ("alerts", "message"),
    [
        ({"cooldown": 10}, "unknown key alerts.cooldown; known keys: kinds, lookback_hours, cooldown_minutes"),
        ({"lookback_hours": 0}, "alerts.lookback_hours must be a whole number of at least 1, got 0"),
        ({"cooldown_minutes": True}, "alerts.cooldown_minutes must be a whole number of at least 0, got True"),
        ({"sla_targets": ["first_response"]}, "alerts.sla_targets: 'first_response' is not one of first_reply"),
        ({"webhooks": [{"name": "a"}]}, "alerts.webhooks[1]: give either url or url_env"),
        (
            {"webhooks": [{"name": "a", "url": "https://x.test/1"}, {"name": "a", "url": "https://x.test/2"}]},
            "alerts.webhooks[2].name: 'a' names an earlier webhook too",
        ),
        (
            {"webhooks": [{"name": "a", "url": "http://hooks.example.com/1"}]},
            "alerts.webhooks[1].url: plain http would show the URL and the alerts to the network; use https",
        ),
        ({"webhooks": [{"name": "a", "url_env": "not a name"}]}, "alerts.webhooks[1].url_env must be the name of"),
        ({"email": {**EMAIL, "password": "hunter2"}}, "alerts.email.password: a password never goes in"),
        ({"email": {**EMAIL, "user": "alerts@acme.test"}}, "alerts.email: user and password_env go together"),
        ({"email": {**EMAIL, "to": []}}, "alerts.email.to must be a list of addresses"),
        ({"email": {**EMAIL, "from": "x@y\nBcc: all@acme.test"}}, "alerts.email.from: 'x@y\\nBcc: all@acme.test' is"),
    ],
)
def test_a_wrong_value_names_its_key(alerts: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"alerts": alerts})
    assert str(error.value).startswith(message)


def test_a_missing_ca_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "deskpulse.toml").write_text(
        '[alerts.email]\nhost = "smtp.acme.test"\nfrom = "a@acme.test"\nto = ["b@acme.test"]\nca_file = "ca.pem"\n'
    )
    config = load_config(tmp_path / "deskpulse.toml")
    with pytest.raises(ConfigError, match=f"alerts.email.ca_file: {tmp_path / 'ca.pem'} does not exist"):
        alerts_config(config)
