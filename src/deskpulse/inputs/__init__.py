"""The files a user provides for what a mailbox cannot tell: agents and teams, schedules, costs, SLA policies,
time entries and survey answers. Each format is documented in docs/inputs.md; a bad file is an error naming
its line and field, and nothing of it is used."""
