"""`[alerts]` in deskpulse.toml: which alerts to raise, how often, and where they go (docs/alerts.md).

Parsed strictly like the rest of the config (an unknown key or a wrong value is a `ConfigError` naming
``alerts.key``). No secret sits in the file: a webhook URL may come from an environment variable
(``url_env``), the SMTP password always does (``password_env``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from deskpulse.config import ConfigError, check_keys
from deskpulse.inputs.sla import TARGET_KINDS

if TYPE_CHECKING:
    from deskpulse.config import Config

SPIKE, NEGATIVE_SENTIMENT, SLA_BREACH, UTILIZATION, SPEED_TRAP, LOW_SURVEY_SCORE = (
    "spike",
    "negative_sentiment",
    "sla_breach",
    "utilization",
    "speed_trap",
    "low_survey_score",
)
ALERT_KINDS = (SPIKE, NEGATIVE_SENTIMENT, SLA_BREACH, UTILIZATION, SPEED_TRAP, LOW_SURVEY_SCORE)
EMAIL_CHANNEL = "email"
# Next-reply targets are left out by default: one per wait cycle, they would drown the first-reply and resolution
# breaches a manager acts on.
DEFAULT_SLA_TARGETS = ("first_reply", "resolution")
# Plain http would show a webhook URL (the secret) and the alerts to the network; allowed only on loopback.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class WebhookConfig:
    """A JSON webhook (a Slack incoming webhook or anything that takes its payload). ``name`` is how the alert log
    knows it, so a rotated URL keeps its history; the URL is given as it is or read from an environment variable."""

    name: str
    url: str | None = None
    url_env: str | None = None

    @property
    def channel(self) -> str:
        return f"webhook:{self.name}"


@dataclass(frozen=True)
class EmailConfig:
    """The SMTP server the digest goes through: STARTTLS always (the certificate verified, ``ca_file`` adding a CA
    to trust besides the system's), then AUTH as ``user`` with the password in ``$password_env`` when a user is
    given."""

    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 587
    user: str | None = None
    password_env: str | None = None
    ca_file: Path | None = None

    @property
    def channel(self) -> str:
        return EMAIL_CHANNEL


@dataclass(frozen=True)
class AlertsConfig:
    kinds: tuple[str, ...] = ALERT_KINDS
    # Only what happened this long before the run's instant is raised: a first run on a store with a long history
    # sends the last day, not every breach since the first ticket.
    lookback_hours: int = 24
    # After an alert for a subject (a category, a ticket's target, an agent), a new alert of the same kind for the
    # same subject waits this long; it goes out at the first run after that if it still holds.
    cooldown_minutes: int = 360
    sla_targets: tuple[str, ...] = DEFAULT_SLA_TARGETS
    webhooks: tuple[WebhookConfig, ...] = ()
    email: EmailConfig | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        """Every configured delivery channel, webhooks first."""
        found = tuple(webhook.channel for webhook in self.webhooks)
        return found + ((self.email.channel,) if self.email is not None else ())


def alerts_config(config: Config) -> AlertsConfig:
    """The `[alerts]` settings of ``config`` (the defaults when the section is absent), with ``email.ca_file``
    made relative to the config file's folder and checked to exist."""
    settings = config.alerts if isinstance(config.alerts, AlertsConfig) else AlertsConfig()
    return replace(settings, email=with_ca_file_found(settings.email, config, "alerts.email"))


def with_ca_file_found(email: EmailConfig | None, config: Config, key: str) -> EmailConfig | None:
    """``email`` with a relative ``ca_file`` made relative to the config file's folder, checked to exist."""
    if email is None or email.ca_file is None or email.ca_file.is_absolute():
        return email
    base = config.source.parent if config.source is not None else Path.cwd()
    ca_file = base / email.ca_file
    if not ca_file.is_file():
        raise ConfigError(f"{key}.ca_file: {ca_file} does not exist")
    return replace(email, ca_file=ca_file)


def parse_alerts(values: Mapping[str, Any]) -> AlertsConfig:
    """Validate the `[alerts]` table of deskpulse.toml."""
    known = ("kinds", "lookback_hours", "cooldown_minutes", "sla_targets", "webhooks", "email")
    check_keys("alerts", values, known)
    defaults = AlertsConfig()
    kinds = _choices("alerts.kinds", values.get("kinds", list(defaults.kinds)), ALERT_KINDS)
    sla_targets = _choices("alerts.sla_targets", values.get("sla_targets", list(DEFAULT_SLA_TARGETS)), TARGET_KINDS)
    lookback = whole_number("alerts.lookback_hours", values.get("lookback_hours", defaults.lookback_hours), 1)
    cooldown = whole_number("alerts.cooldown_minutes", values.get("cooldown_minutes", defaults.cooldown_minutes), 0)
    webhooks = values.get("webhooks", [])
    if not isinstance(webhooks, list):
        raise ConfigError(
            'alerts.webhooks must be a list of tables such as [[alerts.webhooks]] name = "support" url_env = "…"'
        )
    parsed_webhooks = tuple(_parse_webhook(f"alerts.webhooks[{n}]", w) for n, w in enumerate(webhooks, start=1))
    names = [webhook.name for webhook in parsed_webhooks]
    for number, name in enumerate(names, start=1):
        if name in names[: number - 1]:
            raise ConfigError(f"alerts.webhooks[{number}].name: {name!r} names an earlier webhook too")
    email = values.get("email")
    return AlertsConfig(
        kinds=kinds,
        lookback_hours=lookback,
        cooldown_minutes=cooldown,
        sla_targets=sla_targets,
        webhooks=parsed_webhooks,
        email=None if email is None else parse_email("alerts.email", email, recipients=True),
    )


def _parse_webhook(key: str, value: Any) -> WebhookConfig:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a table with name and url or url_env, got {value!r}")
    check_keys(key, value, ("name", "url", "url_env"))
    name = text(f"{key}.name", value.get("name"), "a name for the webhook, such as 'support-channel'")
    if ("url" in value) == ("url_env" in value):
        raise ConfigError(
            f"{key}: give either url or url_env (the name of an environment variable holding the URL), not "
            f"{'both' if 'url' in value else 'neither'}"
        )
    if "url" in value:
        url = text(f"{key}.url", value["url"], "a URL such as 'https://hooks.slack.com/services/…'")
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(f"{key}.url must be an https URL, got {url!r}")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ConfigError(f"{key}.url: plain http would show the URL and the alerts to the network; use https")
        return WebhookConfig(name, url=url)
    return WebhookConfig(name, url_env=env_name(f"{key}.url_env", value["url_env"]))


def parse_email(key: str, value: Any, *, recipients: bool) -> EmailConfig:
    """An SMTP section such as ``[alerts.email]`` (``key``); ``recipients``: whether it names them (``to``) or the
    mail names its own (a survey goes to one customer at a time)."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a table ([{key}]), got {value!r}")
    if "password" in value:
        raise ConfigError(
            f"{key}.password: a password never goes in deskpulse.toml; set password_env to the name of an "
            "environment variable that holds it"
        )
    known = ("host", "port", "user", "password_env", "from", *(("to",) if recipients else ()), "ca_file")
    check_keys(key, value, known)
    host = text(f"{key}.host", value.get("host"), "the SMTP server's name")
    port = whole_number(f"{key}.port", value.get("port", 587), 1)
    if port > 65535:
        raise ConfigError(f"{key}.port must be a port number (1-65535), got {port}")
    sender = address(f"{key}.from", value.get("from"))
    to: tuple[str, ...] = ()
    if recipients:
        listed = value.get("to")
        if not isinstance(listed, list) or not listed:
            raise ConfigError(f'{key}.to must be a list of addresses, such as ["lead@acme.test"], got {listed!r}')
        to = tuple(address(f"{key}.to", each) for each in listed)
    user = None if "user" not in value else text(f"{key}.user", value["user"], "the SMTP login name")
    password_env = None if "password_env" not in value else env_name(f"{key}.password_env", value["password_env"])
    if (user is None) != (password_env is None):
        raise ConfigError(
            f"{key}: user and password_env go together (AUTH as user with the password in $password_env); "
            "leave both out for a server that takes mail without AUTH"
        )
    ca_file = None
    if "ca_file" in value:
        ca_file = Path(text(f"{key}.ca_file", value["ca_file"], "a file path")).expanduser()
    return EmailConfig(host, sender, to, port, user, password_env, ca_file)


def text(key: str, value: Any, what: str) -> str:
    """A non-empty string, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} must be {what}, got {value!r}")
    return value.strip()


def whole_number(key: str, value: Any, minimum: int) -> int:
    # bool is an int in Python; `cooldown_minutes = true` is a mistake.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key} must be a whole number of at least {minimum}, got {value!r}")
    return value


def _choices(key: str, value: Any, known: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key} must be a list of some of {', '.join(known)}, got {value!r}")
    for item in value:
        if item not in known:
            raise ConfigError(f"{key}: {item!r} is not one of {', '.join(known)}")
    return tuple(dict.fromkeys(value))


def env_name(key: str, value: Any) -> str:
    """The name of an environment variable (that holds a secret: secrets never go in the config file)."""
    name = text(key, value, "the name of an environment variable")
    if not _ENV_NAME.fullmatch(name):
        raise ConfigError(f"{key} must be the name of an environment variable, such as 'DESKPULSE_SECRET'")
    return name


def address(key: str, value: Any) -> str:
    """An address for a mail header: an ``@`` in it, no line break (which would start a header of its own)."""
    address = text(key, value, "an e-mail address")
    if "@" not in address or any(c in address for c in "\r\n"):
        raise ConfigError(f"{key}: {address!r} is not an e-mail address")
    return address
