"""Alerts and digests: what deserves a manager's attention now (spikes, angry customers, SLA breaches, guardrails),
sent once to webhooks and as an e-mail digest (docs/alerts.md).

`settings` parses `[alerts]` (imported by the config, so it stays light); `detect` finds the alerts in the store,
`log` keeps what was sent where in the state file, `deliver` talks to webhooks and SMTP, and `run` ties them
together in `run_alerts`, which `deskpulse alerts run` and the loop in `deskpulse serve` call.
"""
