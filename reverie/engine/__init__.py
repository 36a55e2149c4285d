"""The Generative Agents cognitive architecture as plain Python (no Django, no model).

Components take state and an injected gateway and return new state and events; the
Django shell in `reverie/` loads, calls, saves and presents.
"""
