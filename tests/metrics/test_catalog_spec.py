"""Every metric id of the specification (§3 of ../shared/spec/metrics.md) is in the catalog and in the JSON.

The ids are read from the spec itself: the backticked names in its §3 table (config keys, the `…_days`
settings, are not metrics). Each duration must also exist as `<id>_business` (spec §2).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tests.conftest import REPO_ROOT, skip_or_fail
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.metrics.catalog import METRICS
from deskpulse.store import Store


def spec_ids() -> set[str]:
    data = Path(os.environ.get("DESKPULSE_DATA") or REPO_ROOT.parent / "shared" / "data")
    spec = data.parent / "spec" / "metrics.md"
    if not spec.exists():
        skip_or_fail(f"the metric specification {spec} is not there")
    text = spec.read_text(encoding="utf-8")
    section = text.split("## 3.", 1)[1].split("## 4.", 1)[0]
    ids = set(re.findall(r"`([a-z][a-z0-9_]*)`", section))
    return {i for i in ids if not i.endswith("_days")}


def test_every_spec_id_is_in_kpis_json(tmp_path: Path) -> None:
    ids = spec_ids()
    assert len(ids) >= 36  # the spec's table names 36 ids; fewer means the parsing above broke
    durations = {i for i in ids if METRICS.get(i) is not None and METRICS[i].kind == "duration"}
    expected = ids | {f"{i}_business" for i in durations}
    with Store.open(tmp_path / "deskpulse.duckdb"):
        pass  # an empty store: every metric has no population, and still appears
    result = CliRunner().invoke(
        app,
        ["--db", str(tmp_path / "deskpulse.duckdb"), "kpis", "--metrics", "all", "--period", "all", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert expected <= set(document["metrics"]), sorted(expected - set(document["metrics"]))
    [row] = document["rows"]
    for metric_id in expected:
        assert row[metric_id]["value"] is None and row[metric_id]["n"] == 0, metric_id
