"""`python -m harness.cli` is the same as the `hachaos` command."""

from harness.cli.app import main

main()
