"""Security review of a compose stack: static (the compose file) and live (its containers)."""
