"""deskpulse.toml: the README's example is the reference, and every mistake is named by its key.

A config error must read as one sentence that names the key (``business_hours.mon``) and what was expected,
both from the library (`ConfigError`) and on the command line (one line on stderr, exit code 2, no traceback).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from deskpulse.config import Config, ConfigError, load_config, parse_config

REPO_ROOT = Path(__file__).resolve().parent.parent


def readme_config() -> str:
    """The ```toml block of the README's "Configuration" section, exactly as users copy it."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1]
    match = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert match, "the README's configuration section has no ```toml block"
    return match.group(1)


# ---------------------------------------------------------------------------------------------------------
# What parses


def accepted_keys(section: str) -> set[str]:
    """The keys the parser accepts in ``section``, as its unknown-key error lists them for the user."""
    with pytest.raises(ConfigError) as raised:
        parse_config({section: {"no_such_key": 1}})
    return set(str(raised.value).split("known keys: ")[1].split(", "))


def test_the_readme_example_documents_every_key_and_parses() -> None:
    data = tomllib.loads(readme_config())
    config = parse_config(data)

    # Every section and key the parser accepts is in the example; tue … sun are documented by a comment
    # ("tue, wed, thu, fri, sat, sun likewise").
    with pytest.raises(ConfigError, match="known sections: ") as raised:
        parse_config({"no_such_section": {}})
    assert set(data) == set(str(raised.value).split("known sections: ")[1].split(", "))
    weekdays = {"tue", "wed", "thu", "fri", "sat", "sun"}
    for section, values in data.items():
        documented = set(values) | (weekdays if section == "business_hours" else set())
        assert documented == accepted_keys(section), section

    # The keys of issue 2 hold what the example says.
    assert config.helpdesk.support_addresses == ("help@acme.test",)
    assert config.helpdesk.agent_domains == ("acme.test",)
    assert config.helpdesk.agent_addresses == ()
    assert config.helpdesk.timezone == "UTC"
    assert config.business_hours.timezone == "UTC"
    # Monday 09:00–17:00; the example leaves the other days out, so they are closed.
    assert config.business_hours.weekly == (((time(9), time(17)),), (), (), (), (), (), ())
    assert config.business_hours.holidays == "DE"
    assert config.business_hours.extra_holidays == ()
    assert (config.resolution.inactivity_days, config.resolution.reopen_window_days) == (7, 7)
    assert config.threading.subject_window_days == 14


def test_an_empty_config_is_the_defaults() -> None:
    config = parse_config({})
    assert config == Config()
    assert not config.business_hours.has_hours  # no hours: business-time metrics are null, never 0
    assert config.helpdesk.timezone == "UTC"
    assert config.subject_window.days == 14


def test_the_hours_forms_the_readme_promises() -> None:
    config = parse_config(
        {
            "business_hours": {
                "mon": "09:00-12:00, 13:00-17:00",  # a lunch break
                "tue": "00:00-24:00",  # all day
                "wed": "9:30-17:30",  # a one-digit hour
                "thu": "",  # closed, like a day left out
                "extra_holidays": ["2026-12-24", date(2026, 12, 31)],  # a TOML date is fine too
            }
        }
    )
    mon, tue, wed, thu, *_ = config.business_hours.weekly
    assert mon == ((time(9), time(12)), (time(13), time(17)))
    assert tue == ((time(0), time.max),)
    assert wed == ((time(9, 30), time(17, 30)),)
    assert thu == ()
    assert config.business_hours.extra_holidays == (date(2026, 12, 24), date(2026, 12, 31))


def test_addresses_and_domains_are_normalised() -> None:
    helpdesk = parse_config(
        {"helpdesk": {"support_addresses": [" Help@ACME.test "], "agent_domains": ["@Acme.Test"]}}
    ).helpdesk
    assert (helpdesk.support_addresses, helpdesk.agent_domains) == (("help@acme.test",), ("acme.test",))


# ---------------------------------------------------------------------------------------------------------
# What does not, and how the error reads

MISTAKES = [
    # (what the user wrote, the key the message must name, words the message must contain)
    ({"helpdesks": {}}, "helpdesks", "unknown section"),
    ({"helpdesk": {"suport_addresses": []}}, "helpdesk.suport_addresses", "unknown key"),
    ({"business_hours": {"monday": "09:00-17:00"}}, "business_hours.monday", "unknown key"),
    ({"helpdesk": "help@acme.test"}, "helpdesk", "must be a table"),
    ({"helpdesk": {"support_addresses": "help@acme.test"}}, "helpdesk.support_addresses", "list of strings"),
    ({"helpdesk": {"support_addresses": ["help"]}}, "helpdesk.support_addresses", "not an e-mail address"),
    ({"helpdesk": {"agent_domains": [""]}}, "helpdesk.agent_domains", "non-empty strings"),
    ({"resolution": {"inactivity_days": "7"}}, "resolution.inactivity_days", "whole number"),
    ({"resolution": {"inactivity_days": True}}, "resolution.inactivity_days", "whole number"),
    ({"resolution": {"reopen_window_days": 0}}, "resolution.reopen_window_days", "at least 1"),
    ({"threading": {"subject_window_days": 2.5}}, "threading.subject_window_days", "whole number"),
    ({"helpdesk": {"timezone": "Mars/Olympus_Mons"}}, "helpdesk.timezone", "unknown timezone"),
    ({"business_hours": {"timezone": "CEST+2"}}, "business_hours.timezone", "unknown timezone"),
    ({"business_hours": {"timezone": 1}}, "business_hours.timezone", "IANA timezone"),
    ({"business_hours": {"mon": "9-17"}}, "business_hours.mon", "is not a range like '09:00-17:00'"),
    ({"business_hours": {"tue": "17:00-09:00"}}, "business_hours.tue", "ends before it starts"),
    ({"business_hours": {"wed": "09:00-13:00, 12:00-17:00"}}, "business_hours.wed", "must not overlap"),
    ({"business_hours": {"thu": "13:00-17:00, 09:00-12:00"}}, "business_hours.thu", "must be in order"),
    ({"business_hours": {"fri": "09:00-25:00"}}, "business_hours.fri", "not a valid time of day"),
    ({"business_hours": {"sat": 9}}, "business_hours.sat", "opening hours"),
    ({"business_hours": {"holidays": "XY"}}, "business_hours.holidays", "'XY' is not a country"),
    ({"business_hours": {"holidays": 49}}, "business_hours.holidays", "country code"),
    ({"business_hours": {"extra_holidays": ["2026-02-30"]}}, "business_hours.extra_holidays", "not an ISO date"),
    ({"business_hours": {"extra_holidays": ["24.12.2026"]}}, "business_hours.extra_holidays", "not an ISO date"),
    ({"business_hours": {"extra_holidays": "2026-12-24"}}, "business_hours.extra_holidays", "list of dates"),
]


@pytest.mark.parametrize(("data", "key", "words"), MISTAKES, ids=[f"{m[1]}: {m[2]}" for m in MISTAKES])
def test_a_mistake_raises_a_config_error_naming_the_key(data: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    message = str(raised.value)
    assert key in message
    assert words in message
    assert "\n" not in message


def test_the_readme_error_example_is_what_users_get() -> None:
    # README: "error: business_hours.mon: '9-17' is not a range like '09:00-17:00'"
    with pytest.raises(ConfigError, match=r"^business_hours\.mon: '9-17' is not a range like '09:00-17:00'$"):
        parse_config({"business_hours": {"mon": "9-17"}})


# ---------------------------------------------------------------------------------------------------------
# Files


def test_load_config_reads_the_file_and_remembers_where_it_came_from(tmp_path: Path) -> None:
    path = tmp_path / "deskpulse.toml"
    path.write_text(readme_config(), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"files\.agents: .*agents\.csv does not exist"):
        load_config(path)
    # The input files are found beside the config file; an agent the agents file lists is an agent.
    (tmp_path / "agents.csv").write_text("address,name,team\nzoe@contractor.test,Zoe,Tier 2\n", encoding="utf-8")
    for name in ("schedules.csv", "costs.csv", "sla.toml", "categories.toml"):
        (tmp_path / name).touch()
    config = load_config(path)
    assert config.source == path
    assert config.helpdesk.support_addresses == ("help@acme.test",)
    assert config.files.agents == tmp_path / "agents.csv"
    assert config.helpdesk.agent_addresses == ("zoe@contractor.test",)


def test_without_a_path_the_current_directory_config_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config() == Config()  # no ./deskpulse.toml: the defaults
    (tmp_path / "deskpulse.toml").write_text('[helpdesk]\ntimezone = "Europe/Berlin"\n', encoding="utf-8")
    assert load_config().helpdesk.timezone == "Europe/Berlin"


def test_invalid_toml_names_the_file_and_the_place(tmp_path: Path) -> None:
    path = tmp_path / "deskpulse.toml"
    path.write_text('[helpdesk\ntimezone = "UTC"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(path) in str(raised.value)
    assert "not valid TOML" in str(raised.value)
    assert "line 1" in str(raised.value)


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nowhere.toml")


def test_a_folder_given_as_config_is_a_config_error(tmp_path: Path) -> None:
    # `deskpulse --config ./conf kpis`, with ./conf a folder, must be a sentence, not an IsADirectoryError.
    with pytest.raises(ConfigError, match=str(tmp_path)):
        load_config(tmp_path)


# ---------------------------------------------------------------------------------------------------------
# On the command line


def run_deskpulse(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed `deskpulse` entry point, in a plain 80-column, non-interactive terminal."""
    script = Path(sys.executable).with_name("deskpulse")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from deskpulse.cli import main; main()"]
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[business_hours]\nmon = "9-17"\n', "error: business_hours.mon: '9-17' is not a range like '09:00-17:00'"),
        ("[helpdesk]\nsuport_addresses = []\n", "error: unknown key helpdesk.suport_addresses"),
        ("[helpdesk\n", "not valid TOML"),
    ],
    ids=["bad hours", "unknown key", "invalid TOML"],
)
def test_a_bad_config_stops_the_cli_with_one_line_and_exit_code_2(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "bad.toml").write_text(content, encoding="utf-8")

    result = run_deskpulse("--config", "bad.toml", "--db", "deskpulse.duckdb", "kpis", cwd=tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected) if expected.startswith("error:") else expected in lines[0]
