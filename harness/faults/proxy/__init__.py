"""The fault proxy program, shipped into the helper image (see faultproxy.py)."""
