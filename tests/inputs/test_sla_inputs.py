"""sla.toml: what a file becomes, and the errors that name the file and the key path."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from deskpulse.config import FilesConfig, parse_config
from deskpulse.inputs.csvfile import InputFileError
from deskpulse.inputs.sla import Conditions, load_sla_policies, read_sla_policies

VALID = """
[[policies]]
name = "VIP"
hours = "business"
pause = "Pending"
[policies.conditions]
mailbox = "VIP@acme.test"
category = ["Billing", "Sales > Enterprise"]
[policies.targets.urgent]
first_reply = "30m"
resolution = "1h30m"
[policies.targets.default]
first_reply = "1.5h"
next_reply = "2d"

[[policies]]
name = "Everyone else"
hours = "calendar"
targets.default = { first_reply = "90s" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sla.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_becomes_policies_in_order(tmp_path: Path) -> None:
    vip, rest = read_sla_policies(write(tmp_path, VALID))
    assert (vip.name, vip.hours, vip.pause, vip.pauses_when_pending) == ("VIP", "business", ("pending",), True)
    # Condition values are lowercased; a single string is a list of one.
    assert vip.conditions == Conditions(mailbox=("vip@acme.test",), category=("billing", "sales > enterprise"))
    # 30 m = 1,800 s; 1 h 30 m = 5,400 s; 1.5 h = 5,400 s; 2 d = 172,800 s (a day is 24 h of the policy's clock).
    assert vip.targets == {
        "urgent": {"first_reply": 1800, "resolution": 5400},
        "default": {"first_reply": 5400, "next_reply": 172800},
    }
    assert (rest.name, rest.hours, rest.pause, rest.conditions) == ("Everyone else", "calendar", (), Conditions())
    assert rest.targets == {"default": {"first_reply": 90}}


def test_a_priority_without_its_own_targets_takes_the_default_table_whole(tmp_path: Path) -> None:
    vip, _ = read_sla_policies(write(tmp_path, VALID))
    assert vip.targets_for("urgent") == {"first_reply": 1800, "resolution": 5400}  # no next_reply target
    assert vip.targets_for("low") == {"first_reply": 5400, "next_reply": 172800}
    assert vip.targets_for("default") == {"first_reply": 5400, "next_reply": 172800}


def test_a_policy_without_targets_exempts_its_tickets(tmp_path: Path) -> None:
    [internal] = read_sla_policies(write(tmp_path, '[[policies]]\nname = "Internal"\nhours = "calendar"\n'))
    assert internal.targets_for("urgent") == {}


POLICY = '[[policies]]\nname = "P"\nhours = "calendar"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("this is = not toml =", "sla.toml: not valid TOML"),
        ("", "sla.toml: names no policy; add at least one [[policies]] table"),
        ('policy = "x"\n', "sla.toml: unknown key 'policy'; the file holds [[policies]] tables only"),
        (
            POLICY + POLICY,
            "sla.toml: policies[2].name: 'P' names an earlier policy too",
        ),
        ('[[policies]]\nhours = "calendar"\n', "sla.toml: policies[1].name: every policy needs a name"),
        ('[[policies]]\nname = "P"\n', 'sla.toml: policies[1].hours: must be "business" or "calendar", got nothing'),
        (
            '[[policies]]\nname = "P"\nhours = "office"\n',
            'sla.toml: policies[1].hours: must be "business" or "calendar", got \'office\'',
        ),
        (POLICY + "priority = 1\n", "sla.toml: policies[1].priority: unknown key; known keys: name, conditions"),
        (
            POLICY + 'pause = ["on_hold"]\n',
            "sla.toml: policies[1].pause: 'on_hold' is not a status to pause in; known: pending",
        ),
        (
            POLICY + 'conditions = { group = "L2" }\n',
            "sla.toml: policies[1].conditions.group: unknown key; known keys: priority, mailbox",
        ),
        (
            POLICY + 'conditions = { priority = "critical" }\n',
            "sla.toml: policies[1].conditions.priority: 'critical' is not a priority; known: urgent, high",
        ),
        (
            POLICY + 'conditions = { tag = ["vip", ""] }\n',
            "sla.toml: policies[1].conditions.tag: must hold non-empty strings, got '' in it",
        ),
        (POLICY + "conditions = { mailbox = 3 }\n", "sla.toml: policies[1].conditions.mailbox: must be a string or"),
        (POLICY + 'conditions = "all"\n', "sla.toml: policies[1].conditions: must be a table, not 'all'"),
        (
            POLICY + 'targets.medium = { first_reply = "1h" }\n',
            "sla.toml: policies[1].targets.medium: unknown key; known keys: urgent, high, normal, low, default",
        ),
        (
            POLICY + 'targets.high = { first_response = "1h" }\n',
            "sla.toml: policies[1].targets.high.first_response: unknown key; known keys: first_reply, next_reply",
        ),
        (
            POLICY + 'targets.urgent = { first_reply = "4x" }\n',
            "sla.toml: policies[1].targets.urgent.first_reply: '4x' is not a duration such as '90s', '30m'",
        ),
        (
            POLICY + "targets.urgent = { first_reply = 4 }\n",
            "sla.toml: policies[1].targets.urgent.first_reply: 4 is not a duration; write one with its unit",
        ),
        (
            POLICY + 'targets.urgent = { resolution = "0h" }\n',
            "sla.toml: policies[1].targets.urgent.resolution: '0h' is no time at all",
        ),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputFileError) as error:
        read_sla_policies(path)
    # Errors begin with the file's path; the path of this test's file ends in sla.toml.
    assert str(error.value).startswith(str(path)[: -len("sla.toml")])
    assert message in str(error.value)


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "sla.toml"
    path.write_bytes(b'[[policies]]\nname = "Caf\xe9"\n')
    with pytest.raises(InputFileError, match=r"sla\.toml: not UTF-8 text"):
        read_sla_policies(path)


def test_business_hours_policies_need_business_hours(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    without_hours = replace(parse_config({}), files=FilesConfig(sla=path))
    message = f'{path}: policies[1].hours: "business", but the config sets no [business_hours]'
    with pytest.raises(InputFileError, match=re.escape(message)):
        load_sla_policies(without_hours)
    monday_hours = parse_config({"business_hours": {"mon": "09:00-17:00"}}).business_hours
    with_hours = replace(without_hours, business_hours=monday_hours)
    assert [policy.name for policy in load_sla_policies(with_hours)] == ["VIP", "Everyone else"]


def test_without_a_file_there_are_no_policies() -> None:
    assert load_sla_policies(parse_config({})) == ()
