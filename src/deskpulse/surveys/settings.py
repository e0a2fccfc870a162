"""`[surveys]` in deskpulse.toml: when surveys go out, where their links point, how they are sent (docs/surveys.md).

Parsed strictly like the rest of the config: an unknown key or a wrong value is a `ConfigError` naming
``surveys.key``. No secret sits in the file: the SMTP password and (optionally) the links' signing key come from
environment variables named here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from deskpulse.alerts.settings import LOOPBACK_HOSTS, EmailConfig
from deskpulse.config import ConfigError

if TYPE_CHECKING:
    from deskpulse.config import Config

SURVEY_PLACEHOLDER = "{survey}"  # in return_path: replaced by the survey's id (VERP)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EMAIL_KEYS = ("host", "port", "user", "password_env", "from", "ca_file")


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
    email = settings.email
    if email is None or email.ca_file is None or email.ca_file.is_absolute():
        return settings
    base = config.source.parent if config.source is not None else Path.cwd()
    ca_file = base / email.ca_file
    if not ca_file.is_file():
        raise ConfigError(f"surveys.email.ca_file: {ca_file} does not exist")
    return replace(settings, email=replace(email, ca_file=ca_file))


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
    _check_keys("surveys", values, known)
    defaults = SurveysConfig()
    numbers = {
        key: _whole_number(f"surveys.{key}", values.get(key, getattr(defaults, key)), minimum)
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
    subject = _text("surveys.subject", values.get("subject", defaults.subject), "the survey mail's subject")
    if any(c in subject for c in "\r\n"):
        raise ConfigError("surveys.subject must be one line")
    return_path = None
    if "return_path" in values:
        return_path = _address("surveys.return_path", values["return_path"])
        if SURVEY_PLACEHOLDER not in return_path:
            raise ConfigError(
                f"surveys.return_path must contain {SURVEY_PLACEHOLDER} (replaced by the survey's id), such as "
                f"'help+survey-{SURVEY_PLACEHOLDER}@acme.test', got {return_path!r}"
            )
    email = values.get("email")
    return SurveysConfig(
        base_url=None if "base_url" not in values else _base_url(values["base_url"]),
        subject=subject,
        secret_env=None if "secret_env" not in values else _env_name("surveys.secret_env", values["secret_env"]),
        return_path=return_path,
        email=None if email is None else _parse_email(email),
        **numbers,
    )


def _base_url(value: Any) -> str:
    url = _text("surveys.base_url", value, "the public address of `deskpulse serve`, such as 'https://desk.acme.test'")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"surveys.base_url must be an address such as 'https://desk.acme.test', got {url!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(
            "surveys.base_url: plain http would show every survey link to the network; use https (a TLS proxy in "
            "front of `deskpulse serve`)"
        )
    return url.rstrip("/")


def _parse_email(value: Any) -> EmailConfig:
    key = "surveys.email"
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a table ([surveys.email]), got {value!r}")
    if "password" in value:
        raise ConfigError(
            f"{key}.password: a password never goes in deskpulse.toml; set password_env to the name of an "
            "environment variable that holds it"
        )
    _check_keys(key, value, _EMAIL_KEYS)
    host = _text(f"{key}.host", value.get("host"), "the SMTP server's name")
    port = _whole_number(f"{key}.port", value.get("port", 587), 1)
    if port > 65535:
        raise ConfigError(f"{key}.port must be a port number (1-65535), got {port}")
    sender = _address(f"{key}.from", value.get("from"))
    user = None if "user" not in value else _text(f"{key}.user", value["user"], "the SMTP login name")
    password_env = None if "password_env" not in value else _env_name(f"{key}.password_env", value["password_env"])
    if (user is None) != (password_env is None):
        raise ConfigError(
            f"{key}: user and password_env go together (AUTH as user with the password in $password_env); "
            "leave both out for a server that takes mail without AUTH"
        )
    ca_file = None
    if "ca_file" in value:
        ca_file = Path(_text(f"{key}.ca_file", value["ca_file"], "a file path")).expanduser()
    # A survey goes to one customer at a time: the recipients come with each message, not from the config.
    return EmailConfig(host, sender, (), port, user, password_env, ca_file)


def _check_keys(section: str, values: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for name in values:
        if name not in known:
            raise ConfigError(f"unknown key {section}.{name}; known keys: {', '.join(known)}")


def _text(key: str, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} must be {what}, got {value!r}")
    return value.strip()


def _whole_number(key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:  # bool is an int in Python
        raise ConfigError(f"{key} must be a whole number of at least {minimum}, got {value!r}")
    return value


def _env_name(key: str, value: Any) -> str:
    name = _text(key, value, "the name of an environment variable")
    if not _ENV_NAME.fullmatch(name):
        raise ConfigError(f"{key} must be the name of an environment variable, such as 'DESKPULSE_SURVEY_SECRET'")
    return name


def _address(key: str, value: Any) -> str:
    """An address for a mail header or the envelope: an ``@`` in it, no line break."""
    address = _text(key, value, "an e-mail address")
    if "@" not in address or any(c in address for c in "\r\n"):
        raise ConfigError(f"{key}: {address!r} is not an e-mail address")
    return address
