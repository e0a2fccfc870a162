"""The zenpy fixture's recorded Zendesk API responses (betamax cassettes), decoded into the pages the API sent.

A cassette stores each response body as base64, sometimes gzipped; the Zendesk tests read the pages themselves,
written to files as an API export would be (`write_pages`), or served again by a local HTTP server
(`test_zendesk_fetch.py`). Nothing here interprets Zendesk: that is the connector's job.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ZENPY = "zenpy-zendesk-cassettes"


@dataclass(frozen=True)
class Recorded:
    cassette: str  # the cassette's file name: the zenpy test that recorded it
    url: str
    body: str


def cassettes(data: Path) -> Path:
    return data / ZENPY / "tests" / "test_api" / "betamax"


def recorded_gets(data: Path, path: str) -> list[Recorded]:
    """Every successful GET whose URL path is ``path`` (e.g. `/api/v2/users.json`), in cassette-file order."""
    found = []
    for cassette in sorted(cassettes(data).glob("*.json")):
        for interaction in json.loads(cassette.read_text())["http_interactions"]:
            request, response = interaction["request"], interaction["response"]
            if request["method"] != "GET" or response["status"]["code"] != 200:
                continue
            if urlsplit(request["uri"]).path != path:
                continue
            found.append(Recorded(cassette.name, request["uri"], _body(response["body"])))
    return found


def write_pages(data: Path, path: str, into: Path) -> list[Path]:
    """The distinct pages recorded for ``path``, each written to its own file in ``into``; returns the files."""
    into.mkdir(parents=True, exist_ok=True)
    written, seen = [], set()
    stem = re.sub(r"\W+", "_", path.removeprefix("/api/v2/").removesuffix(".json")).strip("_")
    for recorded in recorded_gets(data, path):
        if recorded.body in seen:
            continue
        seen.add(recorded.body)
        file = into / f"{stem}_page{len(written) + 1}.json"
        file.write_text(recorded.body)
        written.append(file)
    return written


def _body(body: dict[str, str]) -> str:
    if "base64_string" in body:
        raw = base64.b64decode(body["base64_string"])
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8")
    return body.get("string", "")
