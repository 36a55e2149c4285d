"""Generative Agents ("Smallville"): the simulation. Arrives with issue 3."""
