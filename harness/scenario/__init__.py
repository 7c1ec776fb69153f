"""Scenario models, loader and plan."""
