"""One alert run: detect as of an instant, keep what is new past its cooldown, deliver to every channel, record.

`run_alerts` is what `deskpulse alerts run` (for cron) and the loop of `deskpulse serve` call. It reads the store
only (a read-only store will do) and writes the state file only.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deskpulse.alerts.deliver import (
    DeliveryError,
    digest_message,
    post_webhook,
    send_digest,
    webhook_payloads,
    webhook_url,
)
from deskpulse.alerts.detect import Alert, as_utc, detect_alerts, latest_activity
from deskpulse.alerts.log import (
    create_tables,
    mark,
    plan_alerts,
    record,
    release_lease,
    take_lease,
    undelivered,
)
from deskpulse.alerts.settings import AlertsConfig, alerts_config
from deskpulse.config import Config
from deskpulse.store import Store


@dataclass(frozen=True)
class Delivery:
    """One message to one channel: a webhook post or the digest, with the alerts it carried."""

    channel: str
    keys: tuple[str, ...]
    sent: bool
    error: str | None = None  # why it failed; None when sent, or not tried (a dry run)

    def as_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "alerts": list(self.keys), "sent": self.sent, "error": self.error}


@dataclass
class AlertRun:
    now: datetime | None  # the instant detected as of (naive UTC); None for an empty store
    dry_run: bool
    channels: tuple[str, ...]  # the configured channels
    found: list[Alert] = field(default_factory=list)  # everything the detectors report now
    new: list[Alert] = field(default_factory=list)  # recorded by this run (a dry run: would be)
    held: list[Alert] = field(default_factory=list)  # new, but their subject is in its cooldown
    deliveries: list[Delivery] = field(default_factory=list)  # this run's and earlier runs' undelivered alerts
    busy: bool = False  # another run was delivering: this one did nothing

    @property
    def failed(self) -> list[Delivery]:
        return [delivery for delivery in self.deliveries if delivery.error is not None]

    def as_json(self) -> dict[str, Any]:
        return {
            "now": None if self.now is None else self.now.isoformat() + "Z",
            "dry_run": self.dry_run,
            "busy": self.busy,
            "channels": list(self.channels),
            "found": len(self.found),
            "new": [alert.as_json() for alert in self.new],
            "held": [alert.as_json() for alert in self.held],
            "deliveries": [delivery.as_json() for delivery in self.deliveries],
        }


def run_alerts(
    store: Store,
    config: Config,
    state: sqlite3.Connection,
    now: datetime | None = None,
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
) -> AlertRun:
    """Detect the alerts as of ``now`` (default: the store's latest activity), record the new ones past their
    cooldown and deliver every undelivered alert to each configured channel; failures are recorded and tried
    again by the next run. A dry run reads the state but writes nothing and sends nothing. Without any channel
    configured nothing is recorded either: the run only shows what it found. ``environ`` (default: the process
    environment) holds the webhook URLs and the SMTP password named in the config."""
    settings = alerts_config(config)
    environ = os.environ if environ is None else environ
    moment = latest_activity(store) if now is None else as_utc(now)
    run = AlertRun(moment, dry_run, settings.channels)
    if moment is None:
        return run
    create_tables(state)
    delivering = not dry_run and bool(settings.channels)
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    if delivering and not take_lease(state, holder, _clock()):
        run.busy = True
        return run
    try:
        run.found = detect_alerts(store, config, settings, moment)
        plan = plan_alerts(state, run.found, moment, settings.cooldown_minutes)
        run.new, run.held = plan.new, plan.held
        if not delivering:
            for channel in settings.channels:
                keys = tuple(alert.key for alert in [*undelivered(state, channel), *run.new])
                if keys:
                    run.deliveries.append(Delivery(channel, keys, sent=False))
            return run
        record(state, run.new, moment, settings.channels, _clock())
        run.deliveries = _deliver(state, settings, config.helpdesk.timezone, moment, environ)
    finally:
        if delivering:
            release_lease(state, holder)
    return run


def _deliver(
    state: sqlite3.Connection, settings: AlertsConfig, timezone: str, now: datetime, environ: Mapping[str, str]
) -> list[Delivery]:
    """Send each channel its undelivered alerts and record every outcome."""
    deliveries = []
    for webhook in settings.webhooks:
        pending = undelivered(state, webhook.channel)
        if not pending:
            continue
        try:
            url = webhook_url(webhook, environ)
        except DeliveryError as exc:
            deliveries.append(_outcome(state, webhook.channel, pending, str(exc)))
            continue
        for chunk, payload in webhook_payloads(pending):
            try:
                post_webhook(url, payload)
                error = None
            except DeliveryError as exc:
                error = str(exc)
            deliveries.append(_outcome(state, webhook.channel, chunk, error))
    email = settings.email
    if email is not None:
        pending = undelivered(state, email.channel)
        if pending:
            try:
                send_digest(digest_message(pending, email, now, timezone), email, environ)
                error = None
            except DeliveryError as exc:
                error = str(exc)
            deliveries.append(_outcome(state, email.channel, pending, error))
    return deliveries


def _outcome(state: sqlite3.Connection, channel: str, alerts: list[Alert], error: str | None) -> Delivery:
    keys = [alert.key for alert in alerts]
    mark(state, channel, keys, error, _clock())
    return Delivery(channel, tuple(keys), sent=error is None, error=error)


def _clock() -> datetime:
    """The wall clock, naive UTC: when something was recorded or sent (cooldowns use the run's instant)."""
    return datetime.now(UTC).replace(tzinfo=None)
