"""What the webhooks and the digest say, on hand-made alerts."""

from __future__ import annotations

from datetime import datetime

from deskpulse.alerts.deliver import digest_html, digest_text, webhook_payloads
from deskpulse.alerts.detect import Alert


def breach(number: int) -> Alert:
    return Alert("sla_breach", f"T-{number}:first_reply", f"sla_breach:T-{number}:first_reply", f"T-{number} late")


def test_a_long_list_is_split_into_messages_slack_accepts() -> None:
    alerts = [breach(n) for n in range(45)]
    messages = webhook_payloads(alerts)
    # 40 alerts a message: a header, the kind's heading and 40 sections make 42 blocks (Slack takes 50).
    assert [len(chunk) for chunk, _ in messages] == [40, 5]
    assert [len(payload["blocks"]) for _, payload in messages] == [42, 7]
    assert [payload["text"] for _, payload in messages] == [
        "deskpulse: 40 new alerts (SLA breaches: 40)",
        "deskpulse: 5 new alerts (SLA breaches: 5)",
    ]


def test_customer_text_cannot_ping_a_channel_or_open_a_link() -> None:
    hostile = Alert(
        "negative_sentiment", "T-1", "k", "Negative sentiment in T-1 “<!channel> <https://evil.test|bank> & co”"
    )
    [(_, payload)] = webhook_payloads([hostile])
    assert payload["blocks"][2]["text"]["text"] == (
        "• Negative sentiment in T-1 “&lt;!channel&gt; &lt;https://evil.test|bank&gt; &amp; co”"
    )


def test_the_digest_groups_by_kind_in_a_fixed_order() -> None:
    spike = Alert("spike", "Login", "spike:Login:2026-03-04", "Spike in Login on 2026-03-04")
    alerts = [breach(1), spike, breach(2)]
    now = datetime(2026, 3, 4, 8, 30)  # UTC: 09:30 in Berlin
    assert digest_text(alerts, now, "Europe/Berlin") == (
        "deskpulse: 3 new alerts (Spikes: 1, SLA breaches: 2) as of 2026-03-04 09:30 Europe/Berlin.\n"
        "\n"
        "Spikes (1)\n"
        "- Spike in Login on 2026-03-04\n"
        "\n"
        "SLA breaches (2)\n"
        "- T-1 late\n"
        "- T-2 late\n"
    )
    page = digest_html(alerts, now, "Europe/Berlin")
    assert page.index("<h3>Spikes (1)</h3>") < page.index("<h3>SLA breaches (2)</h3>")
