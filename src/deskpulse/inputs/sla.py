"""sla.toml: the service level policies that `sla_compliance` holds tickets to.

An ordered list of ``[[policies]]``; the first whose conditions a ticket meets applies to it (Zendesk's rule).
A policy sets targets per ticket priority for first reply, next reply and resolution, measured in business or
calendar hours, optionally with the resolution clock paused while the ticket waits for the customer.
docs/inputs.md describes the format; every error names the file and the key path, such as
``policies[2].targets.urgent.first_reply``, with policies counted from 1 as they appear in the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskpulse.config import read_toml
from deskpulse.inputs.csvfile import InputFileError

if TYPE_CHECKING:
    from deskpulse.config import Config

PRIORITIES = ("urgent", "high", "normal", "low")
DEFAULT_PRIORITY = "default"  # the targets for a ticket without a priority, or one its policy names no targets for
TARGET_KINDS = ("first_reply", "next_reply", "resolution")
HOURS = ("business", "calendar")
# Statuses a policy may pause the resolution clock in. A help desk ticket's status history says when it was
# pending; a mailbox has no status field, so "pending" (waiting for the customer) is read from the mail itself:
# the time from a human agent reply to the customer's next message.
PAUSE_STATUSES = ("pending",)
CONDITION_KEYS = ("priority", "mailbox", "category", "tag", "organisation")
POLICY_KEYS = ("name", "conditions", "hours", "pause", "targets")

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_SECONDS_PER = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Conditions:
    """What a ticket must have for its policy to apply: every key given must hold, each by any of its values.

    Values are lowercased. ``category`` matches the category or any category under it (``billing`` matches
    ``Billing > Refunds``); ``tag`` matches a ticket with any of the tags. No key at all: every ticket.
    """

    priority: tuple[str, ...] = ()
    mailbox: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    organisation: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    hours: str  # business | calendar
    conditions: Conditions = field(default_factory=Conditions)
    pause: tuple[str, ...] = ()
    # priority (or "default") → target kind → seconds
    targets: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def targets_for(self, priority: str) -> Mapping[str, int]:
        """The targets of a ticket of ``priority`` (one of `PRIORITIES` or "default"): its own table if the policy
        has one, else the default table. A table is used whole: a kind it leaves out has no target."""
        return self.targets.get(priority, self.targets.get(DEFAULT_PRIORITY, {}))

    @property
    def pauses_when_pending(self) -> bool:
        return "pending" in self.pause


def load_sla_policies(config: Config) -> tuple[SlaPolicy, ...]:
    """The policies of the file ``[files] sla`` names, checked against the config; none without that file."""
    path = config.files.sla
    if path is None:
        return ()
    policies = read_sla_policies(path)
    for number, policy in enumerate(policies, start=1):
        if policy.hours == "business" and not config.business_hours.has_hours:
            raise InputFileError(
                f'{path}: policies[{number}].hours: "business", but the config sets no [business_hours]; '
                'add opening hours there or measure this policy in "calendar" hours'
            )
    return policies


def read_sla_policies(path: Path) -> tuple[SlaPolicy, ...]:
    """The policies of an sla.toml file, in order; an `InputFileError` naming the key for anything amiss."""
    data = read_toml(path, InputFileError, "the SLA file")
    return parse_sla_policies(data, str(path))


def parse_sla_policies(data: Mapping[str, Any], file: str) -> tuple[SlaPolicy, ...]:
    """Validate a parsed sla.toml document; ``file`` names it in errors."""
    for key in data:
        if key != "policies":
            raise InputFileError(f"{file}: unknown key {key!r}; the file holds [[policies]] tables only")
    policies = data.get("policies")
    if not isinstance(policies, list) or not policies:
        raise InputFileError(f"{file}: names no policy; add at least one [[policies]] table")
    parsed: list[SlaPolicy] = []
    for number, policy in enumerate(policies, start=1):
        parsed.append(_parse_policy(_Key(file, f"policies[{number}]"), policy))
    names = [policy.name for policy in parsed]
    for number, name in enumerate(names, start=1):
        if name in names[: number - 1]:
            raise InputFileError(f"{file}: policies[{number}].name: {name!r} names an earlier policy too")
    return tuple(parsed)


@dataclass(frozen=True)
class _Key:
    """A key path in the file, for error messages."""

    file: str
    path: str

    def __truediv__(self, name: str) -> _Key:
        return _Key(self.file, f"{self.path}.{name}")

    def error(self, problem: str) -> InputFileError:
        return InputFileError(f"{self.file}: {self.path}: {problem}")


def _table(key: _Key, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise key.error(f"must be a table, not {_describe(value)}")
    return value


def _check_keys(key: _Key, table: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for name in table:
        if name not in known:
            raise (key / name).error(f"unknown key; known keys: {', '.join(known)}")


def _parse_policy(key: _Key, value: Any) -> SlaPolicy:
    policy = _table(key, value)
    _check_keys(key, policy, POLICY_KEYS)
    name = policy.get("name")
    if not isinstance(name, str) or not name.strip():
        raise (key / "name").error('every policy needs a name, such as name = "VIP customers"')
    hours = policy.get("hours")
    if hours not in HOURS:
        raise (key / "hours").error(f'must be "business" or "calendar", got {_describe(hours)}')
    pause = _words(key / "pause", policy.get("pause", []))
    for status in pause:
        if status not in PAUSE_STATUSES:
            raise (key / "pause").error(f"{status!r} is not a status to pause in; known: {', '.join(PAUSE_STATUSES)}")
    return SlaPolicy(
        name=name.strip(),
        hours=hours,
        conditions=_parse_conditions(key / "conditions", policy.get("conditions", {})),
        pause=pause,
        targets=_parse_targets(key / "targets", policy.get("targets", {})),
    )


def _parse_conditions(key: _Key, value: Any) -> Conditions:
    conditions = _table(key, value)
    _check_keys(key, conditions, CONDITION_KEYS)
    parsed = {name: _words(key / name, values) for name, values in conditions.items()}
    for priority in parsed.get("priority", ()):
        if priority not in PRIORITIES:
            raise (key / "priority").error(f"{priority!r} is not a priority; known: {', '.join(PRIORITIES)}")
    return Conditions(**parsed)


def _parse_targets(key: _Key, value: Any) -> dict[str, dict[str, int]]:
    targets = _table(key, value)
    _check_keys(key, targets, (*PRIORITIES, DEFAULT_PRIORITY))
    parsed: dict[str, dict[str, int]] = {}
    for priority, kinds in targets.items():
        table = _table(key / priority, kinds)
        _check_keys(key / priority, table, TARGET_KINDS)
        parsed[priority] = {kind: _duration(key / priority / kind, text) for kind, text in table.items()}
    return parsed


def _duration(key: _Key, value: Any) -> int:
    """``"90s"``, ``"30m"``, ``"4h"``, ``"2d"``, ``"1h30m"`` → whole seconds (more than 0). A day is 24 hours of
    the policy's clock, so one business day of 8 opening hours is ``"8h"``. A bare number is refused: seconds or
    minutes? The unit must be written."""
    if not isinstance(value, str):
        raise key.error(f"{_describe(value)} is not a duration; write one with its unit, such as '4h' or '30m'")
    text = value.replace(" ", "").lower()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise key.error(f"{value!r} is not a duration such as '90s', '30m', '4h', '2d' or '1h30m'")
    seconds = round(sum(float(number) * _SECONDS_PER[unit] for number, unit in parts))
    if seconds < 1:
        raise key.error(f"{value!r} is no time at all; a target must be at least one second")
    return seconds


def _words(key: _Key, value: Any) -> tuple[str, ...]:
    """A string or a list of strings, stripped and lowercased."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise key.error(f"must be a string or a list of strings, not {_describe(value)}")
    words = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise key.error(f"must hold non-empty strings, got {_describe(item)} in it")
        words.append(item.strip().lower())
    return tuple(words)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)
