"""Post-interaction surveys: CSAT by one click in a mail after a ticket resolves, CES and a comment on the page the
click opens (docs/surveys.md).

Invitations and answers are rows of the store's `surveys` table (the survey metrics read them unchanged); what is
operational rather than canonical (the links' signing key, the send log, opt-outs, comment analysis) lives in the
state file beside the store, so the web app can write it while other processes read the store.
"""
