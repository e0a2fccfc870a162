"""`python -m deskpulse` is the `deskpulse` command."""

from deskpulse.cli import main

main()
