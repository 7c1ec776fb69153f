"""Built-in workloads (run inside the Locust children only)."""
