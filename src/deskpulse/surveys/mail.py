"""The survey mail and its links: CSAT 1–5 as five one-click links, an opt-out link, nothing that needs a login.

The customer's own words (the ticket's subject) appear in the body only, HTML-escaped in the HTML part; the
headers hold fixed text and addresses. The mail says it is automatic (``Auto-Submitted``, RFC 3834), so vacation
replies stay away from the support mailbox, and carries a one-click ``List-Unsubscribe`` (RFC 8058) that is the
same opt-out as the link in the text.
"""

from __future__ import annotations

import html
import secrets
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

CSAT_CHOICES = (
    (5, "Very satisfied"),
    (4, "Satisfied"),
    (3, "Neither satisfied nor dissatisfied"),
    (2, "Dissatisfied"),
    (1, "Very dissatisfied"),
)
# CES 2.0: agreement with one statement on 1–7, 7 = strongly agree (the metric `ces` reads it so).
CES_STATEMENT = "The company made it easy for me to handle my issue."
CES_CHOICES = (
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Somewhat disagree"),
    (4, "Neither agree nor disagree"),
    (5, "Somewhat agree"),
    (6, "Agree"),
    (7, "Strongly agree"),
)
SUBJECT_CHARACTERS = 120  # of the ticket's subject quoted in the mail


def answer_url(base_url: str, token: str, csat: int | None = None) -> str:
    return f"{base_url}/survey/{token}" + ("" if csat is None else f"?csat={csat}")


def opt_out_url(base_url: str, token: str) -> str:
    return f"{base_url}/survey/{token}/opt-out"


def new_message_id(survey_id: str, sender: str) -> str:
    """A Message-ID (without brackets) naming the survey, on the sender's domain: a bounce that quotes it is
    recognised by it."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "deskpulse.invalid"
    return f"deskpulse-survey.{survey_id}.{secrets.token_hex(4)}@{domain}"


def survey_message(
    *,
    subject: str,
    sender: str,
    recipient: str,
    message_id: str,
    ticket_subject: str | None,
    answer_link: str,
    opt_out_link: str,
) -> EmailMessage:
    """The survey mail: text with the five links, and an HTML alternative with the same links as buttons."""
    about = _quoted_subject(ticket_subject)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{message_id}>"
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{opt_out_link}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    lines = [
        "Hello,",
        "",
        f"we recently resolved your request{' ' + about if about else ''}. How satisfied are you with the help you "
        "received? One click answers:",
        "",
    ]
    lines += [f"  {score} - {label}: {answer_link}?csat={score}" for score, label in CSAT_CHOICES]
    lines += [
        "",
        "The page that opens asks one more question and lets you tell us more, if you have a moment.",
        "",
        f"No more surveys from us: {opt_out_link}",
    ]
    message.set_content("\n".join(lines) + "\n")
    buttons = "".join(
        f'<tr><td style="padding:4px 0"><a href="{html.escape(f"{answer_link}?csat={score}")}" '
        'style="display:block;padding:8px 14px;border:1px solid #8a99ad;border-radius:4px;color:#1d3557;'
        f'text-decoration:none">{score} &ndash; {html.escape(label)}</a></td></tr>'
        for score, label in CSAT_CHOICES
    )
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="font-family:sans-serif">'
        "<p>Hello,</p>"
        f"<p>we recently resolved your request{' ' + html.escape(about) if about else ''}. "
        "How satisfied are you with the help you received? One click answers:</p>"
        f'<table role="presentation" style="border-collapse:collapse">{buttons}</table>'
        "<p>The page that opens asks one more question and lets you tell us more, if you have a moment.</p>"
        f'<p style="font-size:small;color:#555"><a href="{html.escape(opt_out_link)}">No more surveys from us</a></p>'
        "</body></html>"
    )
    message.add_alternative(body, subtype="html")
    return message


def _quoted_subject(ticket_subject: str | None) -> str:
    """“Subject”, on one line and cut to SUBJECT_CHARACTERS; empty when the ticket has none."""
    flat = " ".join((ticket_subject or "").split())
    if not flat:
        return ""
    if len(flat) > SUBJECT_CHARACTERS:
        flat = flat[: SUBJECT_CHARACTERS - 1] + "…"
    return f"“{flat}”"
