"""Who wrote a message (spec §1.3–1.4): system, automation, agent or customer."""

from __future__ import annotations

import pytest

from deskpulse.config import HelpdeskConfig
from deskpulse.mail.senders import SenderRules

RULES = SenderRules(
    HelpdeskConfig(
        support_addresses=("help@acme.test",),
        agent_domains=("acme.test",),
        agent_addresses=("contractor@gmail.com",),
        relay_lists=("support.acme.test",),
    )
)


@pytest.mark.parametrize(
    ("sender", "headers", "role", "reason"),
    [
        ("carla@example.org", {}, "customer", "not staff"),
        ("ana@acme.test", {}, "agent", "agent_domain"),
        ("contractor@gmail.com", {}, "agent", "agent_address"),
        ("help@acme.test", {}, "agent", "support_address"),
        # RFC 3834: an auto-acknowledgement from the support address is automation, never an agent's reply.
        ("help@acme.test", {"auto-submitted": ["auto-replied"]}, "automation", "auto-submitted:auto-replied"),
        ("carla@example.org", {"auto-submitted": ["no"], "precedence": ["bulk"]}, "customer", "not staff"),
        ("carla@example.org", {"x-autoreply": ["yes"]}, "automation", "x-autoreply"),
        ("news@vendor.example", {"precedence": ["bulk"]}, "automation", "precedence:bulk"),
        (
            "news@vendor.example",
            {"list-id": ["<offers.vendor.example>"], "list-unsubscribe": ["<mailto:x>"]},
            "automation",
            "list-id bulk mail",
        ),
        ("no-reply@shop.example", {}, "automation", "no-reply sender"),
        ("mailer-daemon@mx.example", {}, "system", "sender:mailer-daemon"),
        (
            "postmaster@mx.example",
            {"content-type": ['multipart/report; report-type="delivery-status"']},
            "system",
            "dsn",
        ),
        # A Google Group relaying customer mail: its list headers say how the mail travelled, not who wrote it.
        (
            "carla@example.org",
            {
                "list-id": ["Acme Support <support.acme.test>"],
                "precedence": ["list"],
                "list-unsubscribe": ["<mailto:x>"],
            },
            "customer",
            "not staff",
        ),
        (
            "carla@example.org",
            {"list-id": ["<other.example>"], "precedence": ["list"]},
            "automation",
            "precedence:list",
        ),
    ],
)
def test_roles(sender: str, headers: dict[str, list[str]], role: str, reason: str) -> None:
    author = RULES.classify(sender, headers)
    assert (author.role, author.reason) == (role, reason)


def test_the_customer_of_staff_mail_is_its_first_recipient_outside_the_team() -> None:
    recipients = ["help@acme.test", "ben@acme.test", "carla@example.org", "bob@example.com"]
    assert RULES.customer_of("agent", "ana@acme.test", recipients) == "carla@example.org"
    assert RULES.customer_of("customer", "carla@example.org", ["help@acme.test"]) == "carla@example.org"
    assert RULES.customer_of("automation", "help@acme.test", ["carla@example.org"]) is None
    assert RULES.mailbox(["carla@example.org", "help@acme.test"]) == "help@acme.test"
