"""Command groups that live in their own modules, one per capability (categorize, sentiment, trends, sync, …).

Each module named in MODULES defines `register(app)`, which adds its commands to the `deskpulse` Typer app. A
module imports only Typer at the top and its heavy dependencies (Ibis, scikit-learn, …) inside the command
functions: `--help` must stay fast, and parser processes import the CLI.
"""

from __future__ import annotations

import importlib

import typer

MODULES: tuple[str, ...] = (
    "serve",
    "imports",
    "import_zendesk",
    "import_csv",
    "import_freshdesk",
    "import_helpscout",
    "sync",
    "trends",
    "bottlenecks",
    "gaps",
    "sentiment",
    "categorize",
    "alerts",
    "report",
    "surveys",
)


def register_all(app: typer.Typer) -> None:
    for name in MODULES:
        importlib.import_module(f"deskpulse.commands.{name}").register(app)
