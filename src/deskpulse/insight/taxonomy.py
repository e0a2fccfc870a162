"""The category taxonomy: hierarchical category names and the rules that assign them without a model.

It is read from the TOML file named by `[files] categories` in deskpulse.toml (docs/categories.md shows the
format). Everything here is pure: reading and validating the file, naming categories consistently, and matching
one ticket against the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskpulse.config import read_toml
from deskpulse.errors import UserError

SEPARATOR = " > "
UNCLASSIFIED = "Unclassified"
# Below this confidence the model's answer is not used: the ticket is Unclassified and queued for review.
DEFAULT_THRESHOLD = 0.5
FEATURES = ("tfidf", "tfidf+minilm")
RULE_KEYS = ("description", "keywords", "patterns", "sender_domains", "mailboxes", "tags")


class TaxonomyError(UserError):
    """A taxonomy file that cannot be used; the message names the file and the key."""


def category_path(name: str) -> tuple[str, ...]:
    """``"Billing >Refund  Request"`` → ``("Billing", "Refund Request")``: levels split on ``>``, spaces tidied."""
    return tuple(" ".join(part.split()) for part in name.split(">"))


def category_name(path: Iterable[str]) -> str:
    return SEPARATOR.join(path)


@dataclass(frozen=True)
class TicketText:
    """What the rules and the model see of a ticket: its first customer message and where it came from."""

    subject: str
    body: str
    sender_domain: str | None = None
    mailbox: str | None = None
    tags: frozenset[str] = frozenset()  # the ticket's tags and its messages' labels, lowercased

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.body}"


@dataclass(frozen=True)
class Rule:
    """The conditions under which a ticket belongs to ``category``; any one of them is enough."""

    category: str
    keywords: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    sender_domains: frozenset[str] = frozenset()
    mailboxes: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    _keyword_pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def build(cls, category: str, **conditions: Any) -> Rule:
        keywords = tuple(conditions.get("keywords", ()))
        # One alternation for all keywords: whole words, any run of whitespace between a phrase's words.
        alternatives = [r"\s+".join(re.escape(word) for word in keyword.split()) for keyword in keywords]
        pattern = re.compile(r"(?<!\w)(" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE) if keywords else None
        return cls(
            category,
            keywords,
            tuple(conditions.get("patterns", ())),
            frozenset(conditions.get("sender_domains", ())),
            frozenset(conditions.get("mailboxes", ())),
            frozenset(conditions.get("tags", ())),
            pattern,
        )

    def match(self, ticket: TicketText) -> str | None:
        """Why the ticket matches, e.g. ``keyword 'refund'``; None when it does not."""
        if ticket.mailbox is not None and ticket.mailbox.lower() in self.mailboxes:
            return f"mailbox {ticket.mailbox.lower()}"
        if ticket.sender_domain is not None and ticket.sender_domain.lower() in self.sender_domains:
            return f"sender domain {ticket.sender_domain.lower()}"
        tags = sorted(self.tags & ticket.tags)
        if tags:
            return f"tag {tags[0]!r}"
        text = ticket.text
        if self._keyword_pattern is not None:
            found = self._keyword_pattern.search(text)
            if found:
                return f"keyword {' '.join(found.group(1).split()).lower()!r}"
        for pattern in self.patterns:
            if pattern.search(text):
                return f"pattern {pattern.pattern!r}"
        return None


@dataclass(frozen=True)
class Taxonomy:
    """Known categories (parents implied by their children, in file order), rules in file order, and settings."""

    categories: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    threshold: float = DEFAULT_THRESHOLD
    features: str = "tfidf"
    source: Path | None = None

    def match(self, ticket: TicketText) -> tuple[str, str] | None:
        """``(category, reason)`` of the first rule that matches, in file order; None when none does."""
        for rule in self.rules:
            reason = rule.match(ticket)
            if reason is not None:
                return rule.category, f"{rule.category}: {reason}"
        return None

    def spelled(self, name: str) -> str | None:
        """The taxonomy's own spelling of a category named in any case and spacing; None when unknown.

        Without a taxonomy file every category is known, tidied by `category_path`."""
        tidy = category_name(category_path(name))
        if not self.categories:
            return tidy
        by_lower = {category.lower(): category for category in self.categories}
        return by_lower.get(tidy.lower())


def load_taxonomy(path: Path | None) -> Taxonomy:
    """The taxonomy of ``path``; without a file, an empty taxonomy (no rules, default settings)."""
    if path is None:
        return Taxonomy()
    data = read_toml(path, TaxonomyError, "the taxonomy file")
    return parse_taxonomy(data, path)


def parse_taxonomy(data: Mapping[str, Any], path: Path | None = None) -> Taxonomy:
    """Validate a parsed taxonomy document; every error names the file and the key."""
    where = f"{path}: " if path is not None else ""

    def fail(key: str, problem: str) -> TaxonomyError:
        return TaxonomyError(f"{where}{key}: {problem}")

    for key in data:
        if key not in ("settings", "categories"):
            raise fail(key, 'unknown key; a taxonomy file has [settings] and [categories."Top > Sub"] tables')
    settings = _table(data.get("settings", {}), "settings", fail)
    threshold, features = _settings(settings, fail)
    categories: dict[str, None] = {}
    rules: list[Rule] = []
    spelled: dict[str, str] = {}
    for name, spec in _table(data.get("categories", {}), "categories", fail).items():
        key = f"categories.{_quoted(name)}"
        path_parts = category_path(name)
        if any(not part for part in path_parts):
            raise fail(key, "a category name has a non-empty name at every level, such as 'Billing > Refund'")
        if path_parts[0].lower() == UNCLASSIFIED.lower():
            raise fail(key, f"{UNCLASSIFIED!r} is what deskpulse calls a ticket it could not classify; rename it")
        full = category_name(path_parts)
        if full.lower() in spelled:
            raise fail(key, f"the same category as {_quoted(spelled[full.lower()])} (names ignore case and spacing)")
        spelled[full.lower()] = name
        for depth in range(1, len(path_parts) + 1):
            parent = category_name(path_parts[:depth])
            known = next((c for c in categories if c.lower() == parent.lower()), None)
            if known is not None and known != parent:
                raise fail(key, f"{parent!r} is spelled {known!r} elsewhere in the file; spell it one way")
            categories.setdefault(parent, None)
        conditions = _rule(_table(spec, key, fail), key, fail)
        if conditions:
            rules.append(Rule.build(full, **conditions))
    return Taxonomy(tuple(categories), tuple(rules), threshold, features, path)


def _settings(settings: Mapping[str, Any], fail: Any) -> tuple[float, str]:
    for key in settings:
        if key not in ("threshold", "features"):
            raise fail(f"settings.{key}", "unknown key; known keys: threshold, features")
    threshold = settings.get("threshold", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise fail("settings.threshold", f"must be a confidence between 0 and 1, got {threshold!r}")
    features = settings.get("features", "tfidf")
    if features not in FEATURES:
        raise fail("settings.features", f"must be one of {', '.join(map(repr, FEATURES))}, got {features!r}")
    return float(threshold), str(features)


def _rule(spec: Mapping[str, Any], key: str, fail: Any) -> dict[str, Any]:
    """The rule conditions of one category table, lowercased where matching ignores case."""
    conditions: dict[str, Any] = {}
    for name, value in spec.items():
        if name not in RULE_KEYS:
            raise fail(f"{key}.{name}", f"unknown key; known keys: {', '.join(RULE_KEYS)}")
        if name == "description":
            if not isinstance(value, str):
                raise fail(f"{key}.{name}", f"must be text, got {value!r}")
            continue
        if not isinstance(value, list):
            raise fail(f"{key}.{name}", f"must be a list of strings, got {value!r}")
        items: list[Any] = []
        for index, item in enumerate(value):
            item_key = f"{key}.{name}[{index}]"
            if not isinstance(item, str) or not item.strip():
                raise fail(item_key, f"must be a non-empty string, got {item!r}")
            if name == "patterns":
                try:
                    items.append(re.compile(item, re.IGNORECASE))
                except re.error as exc:
                    raise fail(item_key, f"{item!r} is not a regular expression: {exc}") from exc
            elif name == "sender_domains":
                items.append(item.strip().lower().lstrip("@"))
            elif name == "mailboxes":
                if "@" not in item:
                    raise fail(item_key, f"{item!r} is not an e-mail address")
                items.append(item.strip().lower())
            else:
                items.append(item.strip().lower())
        conditions[name] = items
    return conditions


def _table(value: Any, key: str, fail: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise fail(key, f"must be a table, got {value!r}")
    return value


def _quoted(name: str) -> str:
    return f'"{name}"' if not re.fullmatch(r"[A-Za-z0-9_-]+", name) else name
