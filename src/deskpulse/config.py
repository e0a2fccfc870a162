"""The deskpulse.toml model: parsed, validated, and turned into frozen settings.

Every error names the offending key (``business_hours.mon``) and says what was expected, so a typo in the
config file reads as a sentence, not a traceback.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deskpulse.errors import UserError

DEFAULT_CONFIG_NAME = "deskpulse.toml"
DEFAULT_DB = Path("deskpulse.duckdb")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

T = TypeVar("T")


class ConfigError(UserError):
    """A config file that cannot be used; the message names the key and what is wrong with it."""


@dataclass(frozen=True)
class HelpdeskConfig:
    support_addresses: tuple[str, ...] = ()
    agent_domains: tuple[str, ...] = ()
    agent_addresses: tuple[str, ...] = ()
    timezone: str = "UTC"
    relay_lists: tuple[str, ...] = ()  # List-Ids of lists (e.g. a Google Group) that relay customer mail


@dataclass(frozen=True)
class BusinessHoursConfig:
    """Weekly opening hours in one timezone. ``weekly[0]`` is Monday; an empty tuple is a closed day."""

    timezone: str = "UTC"
    weekly: tuple[tuple[tuple[time, time], ...], ...] = ((),) * 7
    holidays: str | None = None
    extra_holidays: tuple[date, ...] = ()

    @property
    def has_hours(self) -> bool:
        return any(self.weekly)


@dataclass(frozen=True)
class ResolutionConfig:
    inactivity_days: int = 7
    reopen_window_days: int = 7
    cohort_days: int = 7


# The files a user provides for what a mailbox cannot tell (docs/inputs.md describes each format).
INPUT_FILES = ("agents", "schedules", "costs", "sla", "categories")


@dataclass(frozen=True)
class FilesConfig:
    """Paths of the user's input files, relative to the config file; None when not given."""

    agents: Path | None = None
    schedules: Path | None = None
    costs: Path | None = None
    sla: Path | None = None
    categories: Path | None = None  # the category taxonomy and its rules (docs/categories.md)


@dataclass(frozen=True)
class EscalationConfig:
    """What counts as a tier escalation: a tag, a move to a group (queue), or mail to an escalation address."""

    tags: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuardrailsConfig:
    """Bands outside which a number is flagged, and the sample below which a survey score is inconclusive."""

    utilization_low: float = 0.70
    utilization_high: float = 0.80
    burnout_above: float = 0.85
    min_survey_answers: int = 30


@dataclass(frozen=True)
class CostsConfig:
    currency: str = "USD"


@dataclass(frozen=True)
class ThreadingConfig:
    """How far apart two messages with the same subject and customer may be and still join one ticket."""

    subject_window_days: int = 14


@dataclass(frozen=True)
class Target:
    """A KPI's target band. For a lower-is-better metric: at or below `target` is on target, at or below
    `warning` at risk, above it off target; mirrored for higher-is-better metrics."""

    target: float
    warning: float | None = None


# The scorecard when the config names none: volume and speed, as the mailbox alone can tell them.
DEFAULT_SCORECARD = ("tickets_created", "unreplied_tickets", "first_response_time", "first_response_time_business")
# "Tracking too many KPIs leads to chaos": a scorecard with more headline metrics than this gets a warning.
SCORECARD_ADVISED_MAXIMUM = 7


@dataclass(frozen=True)
class ScorecardConfig:
    metrics: tuple[str, ...] = DEFAULT_SCORECARD
    period: str = "month"
    targets: Mapping[str, Target] = field(default_factory=dict)


IMAP_TLS_MODES = ("imaps", "starttls")


@dataclass(frozen=True)
class ImapConfig:
    """A live IMAP account (`deskpulse sync imap`, `deskpulse watch`). The password is never here: it comes from
    $DESKPULSE_IMAP_PASSWORD or `password_file`. Paths are relative to the config file."""

    host: str | None = None
    port: int | None = None  # None: 993 for imaps, 143 for starttls
    user: str | None = None
    folders: tuple[str, ...] = ("INBOX",)
    tls: str = "imaps"
    ca_file: Path | None = None
    password_file: Path | None = None
    batch_size: int = 200


@dataclass(frozen=True)
class LabelsConfig:
    """What folders and labels mean, as written (matched case-insensitively): resolved, a category, a priority."""

    resolved: tuple[str, ...] = ()
    category: Mapping[str, str] = field(default_factory=dict)
    priority: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SentimentConfig:
    """Where a sentiment score (−1 … 1) becomes a label, and when a ticket goes to the review queue."""

    negative_below: float = -0.1  # a message scoring below this is negative…
    positive_above: float = 0.1  # …above this positive, else neutral
    flag_below: float = -0.5  # a ticket below this, with a negative latest customer message, is flagged
    worsening_drop: float = 0.6  # so is one whose latest customer message scores this much below the first
    flag_threats: bool = True  # a chargeback, legal or leaving threat flags the ticket whatever the score
    use_model: bool = True  # score with the model `deskpulse sentiment train` saved, when there is one


@dataclass(frozen=True)
class WebConfig:
    """`deskpulse serve`: where it listens, and how its sessions and logins behave."""

    host: str = "127.0.0.1"
    port: int = 8750
    # Cookies are marked Secure (sent over HTTPS only) unless the app is reached over plain HTTP on loopback;
    # behind a TLS-terminating proxy leave this true.
    secure_cookies: bool = True
    session_hours: int = 12
    login_attempts: int = 5  # failed logins per account and per client address…
    login_window_minutes: int = 15  # …within this window before further attempts are refused
    alerts_every_minutes: int = 15  # how often `serve` runs the alert loop (0: never)


@dataclass(frozen=True)
class Config:
    helpdesk: HelpdeskConfig = field(default_factory=HelpdeskConfig)
    business_hours: BusinessHoursConfig = field(default_factory=BusinessHoursConfig)
    resolution: ResolutionConfig = field(default_factory=ResolutionConfig)
    threading: ThreadingConfig = field(default_factory=ThreadingConfig)
    scorecard: ScorecardConfig = field(default_factory=ScorecardConfig)
    files: FilesConfig = field(default_factory=FilesConfig)
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    guardrails: GuardrailsConfig = field(default_factory=GuardrailsConfig)
    costs: CostsConfig = field(default_factory=CostsConfig)
    sentiment: SentimentConfig = field(default_factory=SentimentConfig)
    imap: ImapConfig = field(default_factory=ImapConfig)
    labels: LabelsConfig = field(default_factory=LabelsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    # [alerts] and [departments] are parsed by their own packages (deskpulse.alerts, deskpulse.reports), which read
    # them through their accessors; None means the section is absent (their defaults apply).
    alerts: Any = None
    departments: Any = None
    surveys: Any = None  # [surveys], parsed by deskpulse.surveys.settings
    source: Path | None = None

    @property
    def subject_window(self) -> timedelta:
        return timedelta(days=self.threading.subject_window_days)


def load_config(path: Path | None = None) -> Config:
    """Read ``path``, or ``./deskpulse.toml`` when it exists, or fall back to the defaults."""
    if path is None:
        candidate = Path.cwd() / DEFAULT_CONFIG_NAME
        if not candidate.exists():
            return Config()
        path = candidate
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    data = read_toml(path, ConfigError, "the config file")
    return resolve_files(replace(parse_config(data), source=path))


def read_toml(path: Path, error: type[UserError], what: str) -> dict[str, Any]:
    """The TOML document in ``path``; an ``error`` naming the file (``what`` it is) when it cannot be read, is not
    UTF-8 or is not TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc


def resolve_files(config: Config) -> Config:
    """Input file paths made relative to the config file's folder, each checked to exist."""
    base = config.source.parent if config.source is not None else Path.cwd()
    resolved = {}
    for name in INPUT_FILES:
        path = getattr(config.files, name)
        if path is None:
            continue
        full = path if path.is_absolute() else base / path
        if not full.is_file():
            raise ConfigError(f"files.{name}: {full} does not exist")
        resolved[name] = full
    config = replace(config, files=replace(config.files, **resolved))
    if config.files.agents is not None:
        from deskpulse.inputs.agents import read_agents  # the agents file names agents, as agent_addresses does

        listed = tuple(agent.address for agent in read_agents(config.files.agents))
        addresses = tuple(dict.fromkeys((*config.helpdesk.agent_addresses, *listed)))
        config = replace(config, helpdesk=replace(config.helpdesk, agent_addresses=addresses))
    return config


def parse_config(data: Mapping[str, Any]) -> Config:
    """Validate a parsed TOML document. Unknown sections and keys are errors: a typo must not pass silently."""
    sections: dict[str, Callable[[Mapping[str, Any]], Any]] = {
        "helpdesk": _parse_helpdesk,
        "business_hours": _parse_business_hours,
        "resolution": _parse_resolution,
        "threading": _parse_threading,
        "scorecard": _parse_scorecard,
        "files": _parse_files,
        "escalation": _parse_escalation,
        "guardrails": _parse_guardrails,
        "costs": _parse_costs,
        "sentiment": _parse_sentiment,
        "imap": _parse_imap,
        "labels": _parse_labels,
        "web": _parse_web,
        "alerts": _parse_alerts,
        "departments": _parse_departments,
        "surveys": _parse_surveys,
    }
    parsed: dict[str, Any] = {}
    for name, value in data.items():
        if name not in sections:
            raise ConfigError(f"unknown section [{name}]; known sections: {', '.join(sections)}")
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name} must be a table ([{name}]), not {type(value).__name__}")
        parsed[name] = sections[name](value)
    return Config(**parsed)


def _parse_web(values: Mapping[str, Any]) -> WebConfig:
    known = tuple(f.name for f in fields(WebConfig))
    check_keys("web", values, known)
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        default = getattr(WebConfig(), key)
        kind = type(default)
        what = {bool: "true or false", int: "a whole number", str: "a string"}[kind]
        parsed[key] = _typed("web", key, value, kind, what)
        if kind is int and parsed[key] < (0 if key == "alerts_every_minutes" else 1):
            raise ConfigError(f"web.{key} must be at least {0 if key == 'alerts_every_minutes' else 1}")
    return WebConfig(**parsed)


def _parse_alerts(values: Mapping[str, Any]) -> Any:
    from deskpulse.alerts.settings import parse_alerts

    return parse_alerts(values)


def _parse_departments(values: Mapping[str, Any]) -> Any:
    from deskpulse.reports.routing import parse_departments

    return parse_departments(values)


def _parse_surveys(values: Mapping[str, Any]) -> Any:
    from deskpulse.surveys.settings import parse_surveys

    return parse_surveys(values)


def check_keys(section: str, values: Mapping[str, Any], known: tuple[str, ...]) -> None:
    """Unknown keys are errors, each naming the keys the section knows: a typo must not pass silently."""
    for key in values:
        if key not in known:
            raise ConfigError(f"unknown key {section}.{key}; known keys: {', '.join(known)}")


def _typed(section: str, key: str, value: Any, kind: type[T], what: str) -> T:
    # bool is an int in Python; a config that says `inactivity_days = true` is a mistake.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{section}.{key} must be {what}, got {value!r}")
    return value


def _string_list(section: str, key: str, value: Any, *, lower: bool = True) -> tuple[str, ...]:
    items = _typed(section, key, value, list, "a list of strings")
    out = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{section}.{key} must be a list of non-empty strings, got {item!r} in it")
        out.append(item.strip().lower() if lower else item.strip())
    return tuple(out)


def _timezone(section: str, key: str, value: Any) -> str:
    name = _typed(section, key, value, str, "an IANA timezone name such as 'Europe/Berlin'")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{section}.{key}: unknown timezone {name!r} (use an IANA name such as 'Europe/Berlin')"
        ) from exc
    return name


def _positive_int(section: str, key: str, value: Any) -> int:
    number = _typed(section, key, value, int, "a whole number of days")
    if number < 1:
        raise ConfigError(f"{section}.{key} must be at least 1, got {number}")
    return number


def _parse_helpdesk(values: Mapping[str, Any]) -> HelpdeskConfig:
    check_keys("helpdesk", values, ("support_addresses", "agent_domains", "agent_addresses", "timezone", "relay_lists"))
    addresses = {}
    for key in ("support_addresses", "agent_addresses"):
        addresses[key] = _string_list("helpdesk", key, values.get(key, []))
        for address in addresses[key]:
            if "@" not in address:
                raise ConfigError(f"helpdesk.{key}: {address!r} is not an e-mail address")
    domains = tuple(d.lstrip("@") for d in _string_list("helpdesk", "agent_domains", values.get("agent_domains", [])))
    timezone = _timezone("helpdesk", "timezone", values.get("timezone", "UTC"))
    relay_lists = tuple(
        item.strip("<>") for item in _string_list("helpdesk", "relay_lists", values.get("relay_lists", []))
    )
    return HelpdeskConfig(addresses["support_addresses"], domains, addresses["agent_addresses"], timezone, relay_lists)


_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def parse_day_hours(key: str, value: Any) -> tuple[tuple[time, time], ...]:
    """``"09:00-17:00"``, or several ranges ``"09:00-12:00, 13:00-17:00"``; ``"24:00"`` ends a day; ``""`` is closed."""
    text = _typed("business_hours", key, value, str, "opening hours such as '09:00-17:00'")
    ranges: list[tuple[time, time]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _HOURS.match(part)
        if not match:
            raise ConfigError(f"business_hours.{key}: {part!r} is not a range like '09:00-17:00'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise ConfigError(f"business_hours.{key}: {part!r} is not a valid time of day")
        start = time(h1, m1)
        end = time.max if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ConfigError(f"business_hours.{key}: {part!r} ends before it starts")
        if ranges and start < ranges[-1][1]:
            raise ConfigError(f"business_hours.{key}: ranges must be in order and must not overlap")
        ranges.append((start, end))
    return tuple(ranges)


def _parse_business_hours(values: Mapping[str, Any]) -> BusinessHoursConfig:
    check_keys("business_hours", values, ("timezone", *WEEKDAYS, "holidays", "extra_holidays"))
    timezone = _timezone("business_hours", "timezone", values.get("timezone", "UTC"))
    weekly = tuple(parse_day_hours(day, values.get(day, "")) for day in WEEKDAYS)
    country = values.get("holidays")
    if country is not None:
        country = _typed("business_hours", "holidays", country, str, "a country code such as 'DE'").upper()
        import holidays as holidays_package  # imported here: it is slow to import and only needed for this check

        if country not in holidays_package.list_supported_countries():
            raise ConfigError(f"business_hours.holidays: {country!r} is not a country the holidays package knows")
    extra = []
    for item in _typed("business_hours", "extra_holidays", values.get("extra_holidays", []), list, "a list of dates"):
        if isinstance(item, date):
            extra.append(item)
            continue
        try:
            extra.append(date.fromisoformat(str(item)))
        except ValueError as exc:
            raise ConfigError(f"business_hours.extra_holidays: {item!r} is not an ISO date (YYYY-MM-DD)") from exc
    return BusinessHoursConfig(timezone, weekly, country, tuple(extra))


def _parse_resolution(values: Mapping[str, Any]) -> ResolutionConfig:
    check_keys("resolution", values, ("inactivity_days", "reopen_window_days", "cohort_days"))
    return ResolutionConfig(
        inactivity_days=_positive_int("resolution", "inactivity_days", values.get("inactivity_days", 7)),
        reopen_window_days=_positive_int("resolution", "reopen_window_days", values.get("reopen_window_days", 7)),
        cohort_days=_positive_int("resolution", "cohort_days", values.get("cohort_days", 7)),
    )


def _parse_files(values: Mapping[str, Any]) -> FilesConfig:
    check_keys("files", values, INPUT_FILES)
    paths = {}
    for name, value in values.items():
        text = _typed("files", name, value, str, "a file path")
        if not text.strip():
            raise ConfigError(f"files.{name} must be a file path, got an empty string")
        paths[name] = Path(text.strip()).expanduser()
    return FilesConfig(**paths)


def _parse_escalation(values: Mapping[str, Any]) -> EscalationConfig:
    check_keys("escalation", values, ("tags", "groups", "addresses"))
    tags = _string_list("escalation", "tags", values.get("tags", []))
    groups = _string_list("escalation", "groups", values.get("groups", []))
    addresses = _string_list("escalation", "addresses", values.get("addresses", []))
    for address in addresses:
        if "@" not in address:
            raise ConfigError(f"escalation.addresses: {address!r} is not an e-mail address")
    return EscalationConfig(tags, groups, addresses)


def _share(section: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{section}.{key} must be a share between 0 and 1 (0.8 = 80 %), got {value!r}")
    return float(value)


def _parse_guardrails(values: Mapping[str, Any]) -> GuardrailsConfig:
    known = ("utilization_low", "utilization_high", "burnout_above", "min_survey_answers")
    check_keys("guardrails", values, known)
    defaults = GuardrailsConfig()
    low = _share("guardrails", "utilization_low", values.get("utilization_low", defaults.utilization_low))
    high = _share("guardrails", "utilization_high", values.get("utilization_high", defaults.utilization_high))
    burnout = _share("guardrails", "burnout_above", values.get("burnout_above", defaults.burnout_above))
    if not low < high <= burnout:
        raise ConfigError(
            f"guardrails: expected utilization_low < utilization_high <= burnout_above, got {low}, {high} and {burnout}"
        )
    minimum = _typed(
        "guardrails",
        "min_survey_answers",
        values.get("min_survey_answers", defaults.min_survey_answers),
        int,
        "a whole number of answers",
    )
    if minimum < 1:
        raise ConfigError(f"guardrails.min_survey_answers must be at least 1, got {minimum}")
    return GuardrailsConfig(low, high, burnout, minimum)


def _parse_sentiment(values: Mapping[str, Any]) -> SentimentConfig:
    known = ("negative_below", "positive_above", "flag_below", "worsening_drop", "flag_threats", "use_model")
    check_keys("sentiment", values, known)
    defaults = SentimentConfig()
    numbers = {}
    for key, low, high in (
        ("negative_below", -1, 1),
        ("positive_above", -1, 1),
        ("flag_below", -1, 1),
        ("worsening_drop", 0, 2),
    ):
        value = values.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ConfigError(
                f"sentiment.{key} must be a number from {low} to {high} (scores run from -1 to 1), got {value!r}"
            )
        numbers[key] = float(value)
    if numbers["negative_below"] >= numbers["positive_above"]:
        raise ConfigError(
            f"sentiment: negative_below ({numbers['negative_below']}) must be below positive_above "
            f"({numbers['positive_above']})"
        )
    flag_threats = _typed("sentiment", "flag_threats", values.get("flag_threats", True), bool, "true or false")
    use_model = _typed("sentiment", "use_model", values.get("use_model", True), bool, "true or false")
    return SentimentConfig(
        numbers["negative_below"],
        numbers["positive_above"],
        numbers["flag_below"],
        numbers["worsening_drop"],
        flag_threats,
        use_model,
    )


def _parse_costs(values: Mapping[str, Any]) -> CostsConfig:
    check_keys("costs", values, ("currency",))
    currency = _typed("costs", "currency", values.get("currency", "USD"), str, "a currency code such as 'EUR'")
    if not re.fullmatch(r"[A-Z]{3}", currency.strip().upper()):
        raise ConfigError(f"costs.currency must be a three-letter currency code such as 'EUR', got {currency!r}")
    return CostsConfig(currency.strip().upper())


def _parse_imap(values: Mapping[str, Any]) -> ImapConfig:
    if "password" in values:
        raise ConfigError(
            "imap.password: a password never goes in deskpulse.toml; set DESKPULSE_IMAP_PASSWORD or "
            "imap.password_file (a file only you can read: chmod 600)"
        )
    known = ("host", "port", "user", "folders", "tls", "ca_file", "password_file", "batch_size")
    check_keys("imap", values, known)
    for key in ("host", "user"):
        if not isinstance(values.get(key), str) or not values[key].strip():
            raise ConfigError(f"imap.{key} is required: the {'server name' if key == 'host' else 'login name'}")
    port = values.get("port")
    if port is not None and not 1 <= _typed("imap", "port", port, int, "a port number") <= 65535:
        raise ConfigError(f"imap.port must be a port number (1-65535), got {port}")
    folders = _string_list("imap", "folders", values.get("folders", ["INBOX"]), lower=False)
    if not folders:
        raise ConfigError('imap.folders must name at least one folder, e.g. ["INBOX"]')
    tls = _typed("imap", "tls", values.get("tls", "imaps"), str, f"one of {', '.join(IMAP_TLS_MODES)}")
    if tls not in IMAP_TLS_MODES:
        raise ConfigError(f"imap.tls must be one of {', '.join(IMAP_TLS_MODES)}, got {tls!r}")
    paths = {}
    for key in ("ca_file", "password_file"):
        if key in values:
            text = _typed("imap", key, values[key], str, "a file path")
            if not text.strip():
                raise ConfigError(f"imap.{key} must be a file path, got an empty string")
            paths[key] = Path(text.strip()).expanduser()
    batch_size = _typed("imap", "batch_size", values.get("batch_size", 200), int, "a whole number of messages")
    if batch_size < 1:
        raise ConfigError(f"imap.batch_size must be at least 1, got {batch_size}")
    host, user = values["host"].strip(), values["user"].strip()
    return ImapConfig(host, port, user, folders, tls, paths.get("ca_file"), paths.get("password_file"), batch_size)


def _parse_labels(values: Mapping[str, Any]) -> LabelsConfig:
    from deskpulse.inputs.sla import PRIORITIES  # the priorities SLA policies know

    check_keys("labels", values, ("resolved", "category", "priority"))
    resolved = _string_list("labels", "resolved", values.get("resolved", []), lower=False)
    meanings: dict[str, dict[str, str]] = {}
    for key, what in (("category", "a category such as 'Billing > Refunds'"), ("priority", "a priority")):
        table = _typed("labels", key, values.get(key, {}), dict, f"a table of label = {what}")
        meanings[key] = {}
        for label, meaning in table.items():
            if not isinstance(meaning, str) or not meaning.strip():
                raise ConfigError(f"labels.{key}.{label} must be {what}, got {meaning!r}")
            meanings[key][label] = meaning.strip()
    for label, priority in meanings["priority"].items():
        if priority not in PRIORITIES:
            raise ConfigError(f"labels.priority.{label} must be one of {', '.join(PRIORITIES)}, got {priority!r}")
    return LabelsConfig(resolved, meanings["category"], meanings["priority"])


def _parse_threading(values: Mapping[str, Any]) -> ThreadingConfig:
    check_keys("threading", values, ("subject_window_days",))
    return ThreadingConfig(_positive_int("threading", "subject_window_days", values.get("subject_window_days", 14)))


_PERIODS = ("day", "week", "month", "quarter", "year")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_SECONDS_PER = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_scorecard(values: Mapping[str, Any]) -> ScorecardConfig:
    from deskpulse.metrics.catalog import METRICS  # imported here: the catalog is not needed to read hours

    check_keys("scorecard", values, ("metrics", "period", "targets"))
    metrics = _string_list("scorecard", "metrics", values.get("metrics", list(DEFAULT_SCORECARD)), lower=False)
    for metric_id in metrics:
        if metric_id not in METRICS:
            raise ConfigError(f"scorecard.metrics: unknown metric {metric_id!r} (see docs/metrics.md)")
    period = _typed("scorecard", "period", values.get("period", "month"), str, f"one of {', '.join(_PERIODS)}")
    if period not in _PERIODS:
        raise ConfigError(f"scorecard.period must be one of {', '.join(_PERIODS)}, got {period!r}")
    targets_table = _typed("scorecard", "targets", values.get("targets", {}), dict, "a table of metric targets")
    targets: dict[str, Target] = {}
    for metric_id, spec in targets_table.items():
        key = f"scorecard.targets.{metric_id}"
        if metric_id not in METRICS:
            raise ConfigError(f"{key}: unknown metric {metric_id!r} (see docs/metrics.md)")
        metric = METRICS[metric_id]
        if metric.better == "neutral":
            raise ConfigError(f"{key}: {metric_id} has no better direction, so it cannot have a target")
        band = spec if isinstance(spec, dict) else {"target": spec}
        for name in band:
            if name not in ("target", "warning"):
                raise ConfigError(f"unknown key {key}.{name}; known keys: target, warning")
        if "target" not in band:
            raise ConfigError(f"{key} needs a target, e.g. {{ target = ..., warning = ... }}")
        is_duration = metric.unit == "seconds"
        target = _target_value(f"{key}.target", band["target"], is_duration)
        warning = None if band.get("warning") is None else _target_value(f"{key}.warning", band["warning"], is_duration)
        if warning is not None and (warning < target if metric.better == "lower" else warning > target):
            side = "above" if metric.better == "lower" else "below"
            raise ConfigError(f"{key}: warning must lie {side} the target ({metric_id}: {metric.better} is better)")
        targets[metric_id] = Target(target, warning)
    return ScorecardConfig(metrics, period, targets)


def _target_value(key: str, value: Any, is_duration: bool) -> float:
    """A number; for durations also "90s", "30m", "4h", "2d", "1h30m"."""
    if isinstance(value, bool):
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and is_duration:
        text = value.replace(" ", "").lower()
        parts = _DURATION_PART.findall(text)
        if parts and "".join(number + unit for number, unit in parts) == text:
            return sum(float(number) * _SECONDS_PER[unit] for number, unit in parts)
        raise ConfigError(f"{key}: {value!r} is not a duration such as '90s', '30m', '4h', '2d' or '1h30m'")
    raise ConfigError(f"{key} must be a number{' or a duration such as 4h' if is_duration else ''}, got {value!r}")
