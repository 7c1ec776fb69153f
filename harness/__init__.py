"""hachaos: chaos and load-testing harness for highly available Compose stacks."""

__version__ = "0.1.0"
