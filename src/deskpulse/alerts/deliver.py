"""Sending alerts: JSON webhooks with a Slack-compatible payload, and one e-mail digest per run over SMTP.

Customer text (subjects, category names, reasons quoting a message) is hostile input. In the webhook payload
``&``, ``<`` and ``>`` are escaped as Slack asks, so no text can become a link or a mention (``<!channel>``); in
the digest's HTML every string is HTML-escaped. The digest's subject holds counts only, no customer text.
A delivery that fails raises `DeliveryError` with what went wrong; the caller records it and tries again later.
`send_mail` is the one SMTP sender: the digest and the survey invitations (`deskpulse.surveys`) both go through it.
"""

from __future__ import annotations

import html
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from deskpulse.alerts.detect import Alert
from deskpulse.alerts.settings import ALERT_KINDS, LOOPBACK_HOSTS, EmailConfig, WebhookConfig

TIMEOUT_SECONDS = 20.0
# Slack takes at most 50 blocks in a message: a header, a heading per kind (6) and this many alerts fit.
ALERTS_PER_MESSAGE = 40
SECTION_CHARACTERS = 2900  # Slack cuts a section's text at 3,000 characters
KIND_TITLES = {
    "spike": "Spikes",
    "negative_sentiment": "Negative sentiment",
    "sla_breach": "SLA breaches",
    "utilization": "Utilization out of band",
    "speed_trap": "Speed trap",
    "low_survey_score": "Low survey scores",
}


class DeliveryError(Exception):
    """A channel did not take the alerts; the message says why."""


class RecipientRefused(DeliveryError):
    """The SMTP server refused the recipients for good (5xx): the mail bounced at once."""

    def __init__(self, message: str, replies: dict[str, str]) -> None:
        super().__init__(message)
        self.replies = replies  # each refused address with the server's reply


def by_kind(alerts: list[Alert]) -> list[tuple[str, list[Alert]]]:
    """The alerts grouped by kind, in `ALERT_KINDS` order, each group in the order given."""
    groups = [(kind, [a for a in alerts if a.kind == kind]) for kind in ALERT_KINDS]
    return [(kind, members) for kind, members in groups if members]


def summary_line(alerts: list[Alert]) -> str:
    """ "3 new alerts (SLA breaches: 2, Spikes: 1)": counts only, no customer text."""
    counts = ", ".join(f"{KIND_TITLES[kind]}: {len(members)}" for kind, members in by_kind(alerts))
    return f"{len(alerts)} new alert{'s' if len(alerts) != 1 else ''} ({counts})"


# --- webhooks ----------------------------------------------------------------------------------------------


def webhook_url(webhook: WebhookConfig, environ: Mapping[str, str]) -> str:
    """The webhook's URL, from the config or its environment variable; refused unless https (or loopback)."""
    url = webhook.url if webhook.url_env is None else environ.get(webhook.url_env, "").strip()
    if not url:
        raise DeliveryError(f"${webhook.url_env} is not set: it must hold the URL of webhook {webhook.name!r}")
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise DeliveryError(f"webhook {webhook.name!r}: plain http to {parts.hostname} refused; use an https URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"webhook {webhook.name!r}: {parts.scheme or 'the value'} is not an http(s) URL")
    return url


def webhook_payloads(alerts: list[Alert]) -> list[tuple[list[Alert], dict[str, Any]]]:
    """The Slack-compatible messages (``{"text": …, "blocks": […]}``) for ``alerts``, at most ALERTS_PER_MESSAGE
    alerts each, with the alerts each one carries."""
    messages = []
    for start in range(0, len(alerts), ALERTS_PER_MESSAGE):
        chunk = alerts[start : start + ALERTS_PER_MESSAGE]
        headline = f"deskpulse: {summary_line(chunk)}"
        blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": headline[:150]}}]
        for kind, members in by_kind(chunk):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{KIND_TITLES[kind]}*"}})
            for alert in members:
                text = "• " + slack_escape(alert.text)[:SECTION_CHARACTERS]
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
        messages.append((chunk, {"text": headline, "blocks": blocks}))
    return messages


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities: text cannot open a link, a mention or a channel ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def post_webhook(url: str, payload: dict[str, Any]) -> None:
    """POST ``payload`` as JSON; any answer but 2xx, or no answer, is a `DeliveryError`."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "deskpulse-alerts"},
        method="POST",
    )
    host = urlsplit(url).hostname
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        body = exc.read(200).decode("utf-8", "replace").strip()
        raise DeliveryError(f"{host} answered HTTP {exc.code}{': ' + body if body else ''}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DeliveryError(f"cannot reach {host}: {reason}") from exc


# --- the e-mail digest -------------------------------------------------------------------------------------


def digest_text(alerts: list[Alert], now: datetime, timezone: str) -> str:
    """The digest as plain text: the alerts grouped by kind."""
    lines = [f"deskpulse: {summary_line(alerts)} as of {_local(now, timezone)}.", ""]
    for kind, members in by_kind(alerts):
        lines.append(f"{KIND_TITLES[kind]} ({len(members)})")
        lines += [f"- {alert.text}" for alert in members]
        lines.append("")
    return "\n".join(lines)


def digest_html(alerts: list[Alert], now: datetime, timezone: str) -> str:
    """The digest as a small HTML page; every string in it escaped."""
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>',
        f"<p>deskpulse: {html.escape(summary_line(alerts))} as of {html.escape(_local(now, timezone))}.</p>",
    ]
    for kind, members in by_kind(alerts):
        parts.append(f"<h3>{html.escape(KIND_TITLES[kind])} ({len(members)})</h3><ul>")
        parts += [f"<li>{html.escape(alert.text)}</li>" for alert in members]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def digest_message(alerts: list[Alert], email: EmailConfig, now: datetime, timezone: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"deskpulse: {summary_line(alerts)}"
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid("deskpulse-alerts", domain=email.sender.rpartition("@")[2].strip("<> "))
    message.set_content(digest_text(alerts, now, timezone))
    message.add_alternative(digest_html(alerts, now, timezone), subtype="html")
    return message


def send_digest(message: EmailMessage, email: EmailConfig, environ: Mapping[str, str]) -> None:
    """Send the digest through ``email.host`` (see `send_mail`)."""
    send_mail(message, email, environ)


def send_mail(
    message: EmailMessage,
    email: EmailConfig,
    environ: Mapping[str, str],
    *,
    setting: str = "alerts.email",
    envelope_sender: str | None = None,
) -> None:
    """Send ``message`` to its To: addresses through ``email.host``: STARTTLS with the certificate verified, AUTH
    when a user is configured. ``setting`` names the config table in errors; ``envelope_sender`` (MAIL FROM, where
    bounces go) defaults to the From: address. A server that refuses every recipient for good (5xx) raises
    `RecipientRefused`: that address bounced, and trying again would not help."""
    password = None
    if email.password_env is not None:
        password = environ.get(email.password_env)
        if not password:
            raise DeliveryError(f"${email.password_env} is not set: it must hold the SMTP password of {email.user}")
    context = ssl.create_default_context()  # verifies the certificate and the host name
    if email.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(email.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(f"{setting}.ca_file: {email.ca_file} is not a PEM certificate file: {exc}") from exc
    server = f"{email.host}:{email.port}"
    try:
        with smtplib.SMTP(email.host, email.port, timeout=TIMEOUT_SECONDS) as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise DeliveryError(f"{server} does not offer STARTTLS; deskpulse sends mail only encrypted")
            smtp.starttls(context=context)
            smtp.ehlo()
            if email.user is not None and password is not None:
                smtp.login(email.user, password)
            smtp.send_message(message, from_addr=envelope_sender)
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(
            f"{server}: its certificate is not trusted ({exc.verify_message}); for a server with its own CA or a "
            f"self-signed certificate, name that certificate in {setting}.ca_file"
        ) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{server} refused the login of {email.user}: {_smtp_reply(exc)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        replies = {
            address: f"{code} {reply.decode('utf-8', 'replace') if isinstance(reply, bytes) else reply}"
            for address, (code, reply) in exc.recipients.items()
        }
        text = "; ".join(f"{address}: {reply}" for address, reply in replies.items())
        if all(code >= 500 for code, _ in exc.recipients.values()):
            raise RecipientRefused(f"{server} refused {text}", replies) from exc
        raise DeliveryError(f"{server} turned away {text} for now") from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"{server} refused the mail: {_smtp_reply(exc)}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"cannot send through {server}: {exc}") from exc


def _smtp_reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}"


def _local(instant: datetime, timezone: str) -> str:
    zone = ZoneInfo(timezone)
    return f"{instant.replace(tzinfo=UTC).astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"
