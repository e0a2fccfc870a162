"""Which departments a ticket's pain belongs to: the `[departments]` rules (categories, tags, keywords), their
defaults, and the one Ibis expression that applies them to every ticket of a period at once.

A ticket goes to every department one of whose rules it meets, so a refund for a crashing app reaches finance
and engineering both. Within a department a ticket has one pain point: its category when it has one, else the
first keyword group its customer messages match, else the tag that routed it. The matching runs in the engine
(regular expressions over the customer messages of the period's tickets), never in a Python loop over messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deskpulse.config import ConfigError
from deskpulse.errors import UserError
from deskpulse.insight.taxonomy import SEPARATOR, UNCLASSIFIED

if TYPE_CHECKING:
    from deskpulse.config import Config
    from deskpulse.store import Store

ALL = "all"  # `--department all`: every department, with the team's scorecard
CATEGORY, KEYWORDS, TAG = "category", "keywords", "tag"  # what made a ticket's pain point
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_DEPARTMENT_KEYS = ("title", "categories", "tags", "keywords")


@dataclass(frozen=True)
class KeywordGroup:
    """Keywords that name one pain point (``name``) of tickets without a category; matched as whole words or
    phrases, case-insensitively, in the subject and new text of customer messages."""

    name: str
    keywords: tuple[str, ...]  # lowercased


@dataclass(frozen=True)
class Department:
    name: str  # the id: `deskpulse report --department finance`
    title: str  # how the report names it: "Finance"
    categories: tuple[str, ...] = ()  # category paths; each takes in its subcategories ("Billing": "Billing > Refund")
    tags: tuple[str, ...] = ()  # lowercased
    keywords: tuple[KeywordGroup, ...] = ()

    def describe(self) -> str:
        """The rules in one line, for the report's reader to know what was counted."""
        parts = []
        if self.categories:
            parts.append("categories " + ", ".join(self.categories))
        if self.tags:
            parts.append("tags " + ", ".join(self.tags))
        if self.keywords:
            parts.append("keywords " + "; ".join(f"{g.name}: {', '.join(g.keywords)}" for g in self.keywords))
        return " · ".join(parts)


@dataclass(frozen=True)
class DepartmentsConfig:
    departments: tuple[Department, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.departments)

    def named(self, name: str) -> Department:
        """The department ``name`` (as given on the command line), or an error listing the known ones."""
        wanted = name.strip().lower()
        for department in self.departments:
            if department.name == wanted:
                return department
        raise UserError(
            f"no department {name!r}; known: {', '.join(self.names)}, or {ALL} (set them in [departments] of "
            "deskpulse.toml, docs/reports.md)"
        )


def _groups(**groups: list[str]) -> tuple[KeywordGroup, ...]:
    return tuple(KeywordGroup(name.replace("_", " "), tuple(words)) for name, words in groups.items())


# The defaults when deskpulse.toml has no [departments] (docs/reports.md lists them). Categories follow the usual
# help desk taxonomies (and the demo's); keywords catch what nobody categorised.
DEFAULT_DEPARTMENTS = (
    Department(
        "product",
        "Product",
        categories=("Feature Request", "Product"),
        tags=("feature-request", "feature_request", "product"),
        keywords=_groups(
            Feature_requests=["feature request", "would love", "please add", "wish list", "suggestion", "roadmap"],
            Missing_features=["missing feature", "does not support", "doesn't support", "no way to", "not possible"],
        ),
    ),
    Department(
        "engineering",
        "Engineering",
        categories=("Bug", "Technical", "Integration", "API"),
        tags=("bug", "outage", "incident"),
        keywords=_groups(
            # Specific words only: "not working" or "error" alone is how any angry customer writes.
            Errors_and_crashes=["crash", "crashes", "crashed", "crashing", "bug", "error message", "error code"],
            Outages_and_slowness=["outage", "is down", "timeout", "timed out", "very slow", "not loading"],
            API_and_integrations=["api", "webhook", "integration"],
        ),
    ),
    Department(
        "marketing",
        "Marketing",
        categories=("Marketing", "Promotion", "Newsletter"),
        tags=("marketing", "promo", "newsletter"),
        keywords=_groups(
            Promotions_and_discounts=["promo code", "discount", "coupon", "voucher", "promotion"],
            Newsletters_and_mailings=["newsletter", "unsubscribe", "mailing list", "too many emails"],
            Pricing_and_advertising=["advertised", "advert", "competitor", "pricing page"],
        ),
    ),
    Department(
        "finance",
        "Finance",
        categories=("Billing", "Payments", "Refund", "Invoice"),
        tags=("billing", "refund", "chargeback"),
        keywords=_groups(
            Refunds=["refund", "money back", "reimburse"],
            Charges_and_payments=["charged twice", "double charge", "overcharged", "payment failed", "chargeback"],
            Invoices=["invoice", "receipt", "vat"],
        ),
    ),
    Department(
        "ux",
        "UX",
        categories=("Account > Login", "Account > Password Reset", "Account > Two-Factor", "Usability", "UX"),
        tags=("ux", "usability"),
        keywords=_groups(
            Confusing_interface=["confusing", "can't find", "cannot find", "hard to find", "not intuitive"],
            Sign_in_friction=["password reset", "reset my password", "locked out", "log in", "two-factor", "2fa"],
        ),
    ),
)


def parse_departments(values: Mapping[str, Any]) -> DepartmentsConfig:
    """The `[departments]` section: ``defaults = true|false`` (keep the built-in departments not named here;
    default true) and one ``[departments.<name>]`` table per department with ``title``, ``categories``, ``tags``
    and ``keywords`` (a list, each keyword its own group, or a table of group name → keywords). A department named
    like a default replaces it."""
    keep_defaults = True
    configured: list[Department] = []
    for key, value in values.items():
        if key == "defaults":
            if not isinstance(value, bool):
                raise ConfigError(f"departments.defaults must be true or false, got {value!r}")
            keep_defaults = value
        elif isinstance(value, Mapping):
            configured.append(_department(key, value))
        else:
            # Ends with the known keys in config.py's words, so the README test finds them.
            raise ConfigError(
                f"departments.{key} must be a table [departments.{key}] of a department's categories, tags and "
                f"keywords, got {value!r}; known keys: defaults"
            )
    named = {d.name for d in configured}
    kept = [d for d in DEFAULT_DEPARTMENTS if keep_defaults and d.name not in named]
    # Defaults first, in their order, a configured one where its default was; new ones after.
    order = {d.name: i for i, d in enumerate(DEFAULT_DEPARTMENTS)}
    departments = sorted([*kept, *configured], key=lambda d: order.get(d.name, len(order)))
    if not departments:
        raise ConfigError("departments: defaults = false and no [departments.<name>] table: no department is left")
    return DepartmentsConfig(tuple(departments))


def departments_config(config: Config) -> DepartmentsConfig:
    """The configured departments, or the defaults when deskpulse.toml has no `[departments]`."""
    if config.departments is None:
        return DepartmentsConfig(DEFAULT_DEPARTMENTS)
    assert isinstance(config.departments, DepartmentsConfig)
    return config.departments


def _department(name: str, values: Mapping[str, Any]) -> Department:
    section = f"departments.{name}"
    if not _NAME.match(name) or name == ALL:
        raise ConfigError(
            f"{section}: a department's name is lowercase letters, digits, '-' and '_', starting with a letter "
            f"(and not {ALL!r})"
        )
    for key in values:
        if key not in _DEPARTMENT_KEYS:
            raise ConfigError(f"unknown key {section}.{key}; known keys: {', '.join(_DEPARTMENT_KEYS)}")
    title = values.get("title", name.capitalize())
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(f"{section}.title must be a non-empty string, got {title!r}")
    categories = tuple(category_key(c) for c in _strings(section, "categories", values.get("categories", [])))
    tags = tuple(t.lower() for t in _strings(section, "tags", values.get("tags", [])))
    keywords = _keyword_groups(section, values.get("keywords", []))
    if not (categories or tags or keywords):
        raise ConfigError(f"{section} has no categories, tags or keywords: no ticket could reach it")
    return Department(name, title.strip(), categories, tags, keywords)


def _strings(section: str, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{section}.{key} must be a list of non-empty strings, got {value!r}")
    return [v.strip() for v in value]


def _keyword_groups(section: str, value: Any) -> tuple[KeywordGroup, ...]:
    if isinstance(value, list):
        return tuple(KeywordGroup(word, (word.lower(),)) for word in _strings(section, "keywords", value))
    if isinstance(value, Mapping):
        return tuple(
            KeywordGroup(str(name).strip(), tuple(w.lower() for w in _strings(section, f"keywords.{name}", words)))
            for name, words in value.items()
        )
    raise ConfigError(f"{section}.keywords must be a list of keywords or a table of group = [keywords], got {value!r}")


def category_key(path: str) -> str:
    """A category path spelled the one way the store and the trends spell it: parts trimmed, joined by ' > '."""
    return SEPARATOR.join(part.strip() for part in path.split(SEPARATOR.strip()))


def keyword_pattern(keywords: tuple[str, ...]) -> str:
    """A regular expression (RE2, as DuckDB runs it) finding any of ``keywords`` as whole words in lowercased
    text: not inside a longer word ("api" is not in "capital"), letters of any script counting as word."""
    alternatives = "|".join(re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", k) for k in keywords)
    return rf"(?:^|[^\pL\pN_])(?:{alternatives})(?:[^\pL\pN_]|$)"


def route_tickets(store: Store, tickets: Any, departments: tuple[Department, ...]) -> Any:
    """``tickets`` (an Ibis table with ``ticket_id`` and ``category``, plus any other columns) once per department
    it belongs to, with ``department``, ``pain_point`` and ``pain_kind`` (category, keywords or tag) added.

    Keywords are searched in the customer messages of these tickets only, one pass with one boolean per keyword
    group; tags are read from ``ticket_tags``."""
    import ibis

    groups = [(d, g) for d in departments for g in d.keywords]
    ids = tickets.select("ticket_id").distinct()
    routed = tickets
    if groups:
        messages = store.table("messages")
        customer = messages.filter(messages.author_role == "customer").select("message_key", "subject", "body_text")
        threads = store.table("message_threads").select("message_key", "ticket_id")
        texts = customer.join(threads, "message_key").join(ids, "ticket_id")
        text = (texts.subject.fill_null("") + "\n" + texts.body_text.fill_null("")).lower()
        hits = texts.group_by("ticket_id").aggregate(
            **{f"_kw_{i}": text.re_search(keyword_pattern(g.keywords)).any() for i, (_, g) in enumerate(groups)}
        )
        routed = routed.left_join(hits, "ticket_id").drop("ticket_id_right")
    tagged_departments = [d for d in departments if d.tags]
    if tagged_departments:
        tags = store.table("ticket_tags")
        tags = tags.join(ids, "ticket_id").mutate(_tag=tags.tag.lower())
        firsts = tags.group_by("ticket_id").aggregate(
            **{f"_tag_{d.name}": tags._tag.min(where=tags._tag.isin(d.tags)) for d in tagged_departments}
        )
        routed = routed.left_join(firsts, "ticket_id").drop("ticket_id_right")
    category = routed.category.strip()
    categorised = category.notnull() & (category != "") & (category != UNCLASSIFIED)
    lowered = category.lower()
    per_department = []
    for department in departments:
        keyword_hits = [
            (routed[f"_kw_{i}"].fill_null(False), g.name) for i, (d, g) in enumerate(groups) if d is department
        ]
        tag = routed[f"_tag_{department.name}"] if department.tags else ibis.null("string")
        by_category = ibis.literal(False)
        for path in department.categories:
            prefix = path.lower()
            by_category = by_category | (lowered == prefix) | lowered.startswith(prefix + SEPARATOR)
        by_category = categorised & by_category
        matched = by_category | tag.notnull()
        for hit, _ in keyword_hits:
            matched = matched | hit
        pain_point = ibis.cases(
            (categorised, category),
            *keyword_hits,
            else_="tag: " + tag,
        )
        pain_kind = ibis.cases(
            (categorised, CATEGORY),
            *((hit, KEYWORDS) for hit, _ in keyword_hits),
            else_=TAG,
        )
        selected = routed.filter(matched).select(
            *tickets.columns, department=ibis.literal(department.name), pain_point=pain_point, pain_kind=pain_kind
        )
        per_department.append(selected)
    return ibis.union(*per_department) if len(per_department) > 1 else per_department[0]
