"""`[surveys]` in deskpulse.toml: when surveys go out, where their links point, how they are sent (docs/surveys.md).

Parsed strictly like the rest of the config: an unknown key or a wrong value is a `ConfigError` naming
``surveys.key``. No secret sits in the file: the SMTP password and (optionally) the links' signing key come from
environment variables named here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from deskpulse.alerts.settings import (
    LOOPBACK_HOSTS,
    EmailConfig,
    address,
    env_name,
    parse_email,
    text,
    whole_number,
    with_ca_file_found,
)
from deskpulse.config import ConfigError, check_keys

if TYPE_CHECKING:
    from deskpulse.config import Config

SURVEY_PLACEHOLDER = "{survey}"  # in return_path: replaced by the survey's id (VERP)


@dataclass(frozen=True)
class SurveysConfig:
    # The public address of `deskpulse serve` (a TLS proxy in front of it): every link in a survey points there.
    base_url: str | None = None
    # A survey goes out this long after its ticket resolved: a customer who writes back the next morning reopens
    # the ticket instead of being asked how it went.
    delay_hours: int = 24
    # …and only for tickets resolved at most this long before the run: the first run on a store with years of
    # history must not mail every customer since the first ticket.
    lookback_days: int = 14
    customer_days: int = 30  # at most one survey per customer address in this many days (0: no limit)
    link_days: int = 30  # a survey link (answer or opt-out) works this long after it was made
    subject: str = "How did we do?"  # the mail's subject: fixed text, never customer text
    low_csat_at_most: int = 2  # a CSAT answer (1-5) this low raises a `low_survey_score` alert; 0: never
    low_ces_at_most: int = 3  # a CES answer (1-7) this low too
    secret_env: str | None = None  # the links' signing key from this variable, else kept in the state file
    # The envelope sender (where bounces go), with {survey} replaced by the survey's id: a bounce naming it is the
    # survey's, whatever the remote server quotes of the original message.
    return_path: str | None = None
    send_every_minutes: int = 15  # how often `deskpulse serve` sends due surveys (0: never; use cron)
    email: EmailConfig | None = None  # the SMTP server and the From address; without it, links only

    @property
    def sends_mail(self) -> bool:
        return self.email is not None


def surveys_config(config: Config) -> SurveysConfig:
    """The `[surveys]` settings of ``config`` (the defaults when the section is absent), with ``email.ca_file``
    made relative to the config file's folder and checked to exist."""
    settings = config.surveys if isinstance(config.surveys, SurveysConfig) else SurveysConfig()
    return replace(settings, email=with_ca_file_found(settings.email, config, "surveys.email"))


def parse_surveys(values: Mapping[str, Any]) -> SurveysConfig:
    """Validate the `[surveys]` table of deskpulse.toml."""
    known = (
        "base_url",
        "delay_hours",
        "lookback_days",
        "customer_days",
        "link_days",
        "subject",
        "low_csat_at_most",
        "low_ces_at_most",
        "secret_env",
        "return_path",
        "send_every_minutes",
        "email",
    )
    check_keys("surveys", values, known)
    defaults = SurveysConfig()
    numbers = {
        key: whole_number(f"surveys.{key}", values.get(key, getattr(defaults, key)), minimum)
        for key, minimum in (
            ("delay_hours", 0),
            ("lookback_days", 1),
            ("customer_days", 0),
            ("link_days", 1),
            ("low_csat_at_most", 0),
            ("low_ces_at_most", 0),
            ("send_every_minutes", 0),
        )
    }
    if numbers["low_csat_at_most"] > 4 or numbers["low_ces_at_most"] > 6:
        raise ConfigError(
            "surveys.low_csat_at_most must be at most 4 and surveys.low_ces_at_most at most 6: a threshold at the "
            "top of the scale would alert on every answer"
        )
    if numbers["delay_hours"] >= numbers["lookback_days"] * 24:
        raise ConfigError(
            f"surveys.delay_hours ({numbers['delay_hours']}) must be shorter than surveys.lookback_days "
            f"({numbers['lookback_days']} days): no ticket would ever be due"
        )
    subject = text("surveys.subject", values.get("subject", defaults.subject), "the survey mail's subject")
    if any(c in subject for c in "\r\n"):
        raise ConfigError("surveys.subject must be one line")
    return_path = None
    if "return_path" in values:
        return_path = address("surveys.return_path", values["return_path"])
        if SURVEY_PLACEHOLDER not in return_path:
            raise ConfigError(
                f"surveys.return_path must contain {SURVEY_PLACEHOLDER} (replaced by the survey's id), such as "
                f"'help+survey-{SURVEY_PLACEHOLDER}@acme.test', got {return_path!r}"
            )
    email = values.get("email")
    return SurveysConfig(
        base_url=None if "base_url" not in values else _base_url(values["base_url"]),
        subject=subject,
        secret_env=None if "secret_env" not in values else env_name("surveys.secret_env", values["secret_env"]),
        return_path=return_path,
        email=None if email is None else parse_email("surveys.email", email, recipients=False),
        **numbers,
    )


def _base_url(value: Any) -> str:
    url = text("surveys.base_url", value, "the public address of `deskpulse serve`, such as 'https://desk.acme.test'")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"surveys.base_url must be an address such as 'https://desk.acme.test', got {url!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(
            "surveys.base_url: plain http would show every survey link to the network; use https (a TLS proxy in "
            "front of `deskpulse serve`)"
        )
    return url.rstrip("/")
