"""Who wrote a message: customer, agent, automation or system (spec §1.3–1.4).

Pure functions over headers and the helpdesk config. System mail (bounces) and automation are recognised
first, from the message itself, so an auto-acknowledgement sent from the support address never counts as
an agent's reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from deskpulse.config import HelpdeskConfig

CUSTOMER = "customer"
AGENT = "agent"
AUTOMATION = "automation"
SYSTEM = "system"

_AUTOMATED_PRECEDENCE = {"auto_reply", "bulk", "junk", "list"}
_SYSTEM_LOCAL_PARTS = {"mailer-daemon", "postmaster"}
_NO_REPLY = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply|bounces?|notifications?|mailer)([-+_.].*)?$")


@dataclass(frozen=True, slots=True)
class Author:
    role: str
    reason: str


class SenderRules:
    """The helpdesk config, pre-digested for fast per-message lookups."""

    def __init__(self, helpdesk: HelpdeskConfig) -> None:
        self.support_addresses = frozenset(helpdesk.support_addresses)
        self.agent_addresses = frozenset(helpdesk.agent_addresses)
        self.agent_domains = frozenset(helpdesk.agent_domains)
        self.relay_lists = frozenset(helpdesk.relay_lists)

    def is_staff(self, address: str) -> bool:
        """An agent's own address, a support address, or an address in an agent domain."""
        if address in self.agent_addresses or address in self.support_addresses:
            return True
        return address.rpartition("@")[2] in self.agent_domains

    def classify(self, from_address: str, headers: Mapping[str, list[str]]) -> Author:
        """Classify one message; ``headers`` has lower-cased names."""
        local = from_address.partition("@")[0]
        content_type = _first(headers, "content-type").lower()
        if "multipart/report" in content_type and "delivery-status" in content_type:
            return Author(SYSTEM, "dsn")
        if local in _SYSTEM_LOCAL_PARTS:
            return Author(SYSTEM, f"sender:{local}")
        automation = automation_reason(headers, self.relay_lists)
        if automation is not None:
            return Author(AUTOMATION, automation)
        if _NO_REPLY.match(local):
            return Author(AUTOMATION, "no-reply sender")
        if from_address in self.agent_addresses:
            return Author(AGENT, "agent_address")
        if from_address in self.support_addresses:
            return Author(AGENT, "support_address")
        if from_address.rpartition("@")[2] in self.agent_domains:
            return Author(AGENT, "agent_domain")
        return Author(CUSTOMER, "not staff")

    def mailbox(self, addresses: Iterable[str]) -> str | None:
        """The first configured support address among ``addresses``."""
        for address in addresses:
            if address in self.support_addresses:
                return address
        return None

    def customer_of(self, role: str, from_address: str, recipients: Iterable[str]) -> str | None:
        """The customer a message involves: its sender, or for staff mail its first recipient outside the team."""
        if role == CUSTOMER:
            return from_address
        if role != AGENT:
            return None
        for address in recipients:
            if not self.is_staff(address):
                return address
        return None


def automation_reason(headers: Mapping[str, list[str]], relay_lists: frozenset[str] = frozenset()) -> str | None:
    """Why a message is automated per RFC 3834 and common practice, or None for human mail.

    ``relay_lists``: List-Id values of lists that relay customer mail to the team (a Google Group or Mailman
    list as the support address). Their list headers say how mail travelled, not who wrote it, so only the
    RFC 3834 signals count for such mail.
    """
    auto_submitted = _first(headers, "auto-submitted").strip().lower()
    if auto_submitted:
        # "Auto-Submitted: no" is explicitly human mail and overrides the softer signals below.
        if auto_submitted.split(";")[0].strip() == "no":
            return None
        return f"auto-submitted:{auto_submitted.split(';')[0].strip()}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress"):
        if name in headers:
            return name
    if relay_lists and list_id(headers) in relay_lists:
        return None
    for name in ("precedence", "x-precedence"):
        value = _first(headers, name).strip().lower()
        if value in _AUTOMATED_PRECEDENCE:
            return f"{name}:{value}"
    if "list-id" in headers and "list-unsubscribe" in headers:
        return "list-id bulk mail"
    return None


def list_id(headers: Mapping[str, list[str]]) -> str:
    """The id inside a List-Id header ("Acme Support <support.acme.test>" → "support.acme.test"), lowercased."""
    value = _first(headers, "list-id")
    start, end = value.rfind("<"), value.rfind(">")
    return (value[start + 1 : end] if 0 <= start < end else value).strip().lower()


def _first(headers: Mapping[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""
