"""Department reports: customer pain routed to the departments that can remove it (docs/reports.md).

`department.build_report` makes a report's data, `render` turns it into Markdown, HTML or PDF; the CLI
(`deskpulse report`) and the web app call the same two.
"""
