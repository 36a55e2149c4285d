"""Smallville pages: the live town, replay, demo, persona state, logs and plots."""
