"""`python -m ladder.cli`: the same as the `ladder` command."""

from . import main

main()
