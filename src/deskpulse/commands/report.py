"""`deskpulse report`: a department's customer pain in a period, ranked into initiatives, as Markdown, HTML or
PDF; `--department all` gives the team's report with the scorecard (docs/reports.md)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        ctx: typer.Context,
        department: Annotated[
            str,
            typer.Option(
                help="A department (product, engineering, marketing, finance, ux unless deskpulse.toml says "
                "otherwise), or all."
            ),
        ],
        period: Annotated[
            str, typer.Option(help="The period's label: 2026-03 (month), 2026-W09 (ISO week), 2026-Q1, 2026.")
        ],
        output_format: Annotated[ReportFormat, typer.Option("--format", help="md, html or pdf.")] = ReportFormat.md,
        output: Annotated[
            Path | None,
            typer.Option(
                "--output", help="Write the report to this file (default: standard output; a PDF needs a file)."
            ),
        ] = None,
        top: Annotated[int, typer.Option(min=1, help="Pain points and initiatives per department.")] = 5,
    ) -> None:
        """A department's top pain points in a period (volume, trend and spikes, cost, sentiment), redacted
        customer quotes and the initiatives ranked by a score shown in the report; `--department all`: every
        department and the team's scorecard."""
        from deskpulse.cli import console, settings_of
        from deskpulse.reports.department import build_report
        from deskpulse.reports.render import render_html, render_markdown, render_pdf
        from deskpulse.store import Store

        if output_format is ReportFormat.pdf and output is None:
            raise typer.BadParameter("a PDF goes to a file: add --output report.pdf", param_hint="--output")
        settings = settings_of(ctx)
        config = settings.config()
        with Store.open(settings.db, read_only=True) as store:
            built = build_report(store, config, department, period, top=top)
        if output_format is ReportFormat.pdf:
            assert output is not None
            output.write_bytes(render_pdf(built))
        else:
            text = render_markdown(built) if output_format is ReportFormat.md else render_html(built)
            if output is None:
                sys.stdout.write(text)
                return
            output.write_text(text, encoding="utf-8")
        console.print(f"{built.title}: written to {output}", highlight=False)
