"""RecurrentGPT: long text written paragraph by paragraph, with a person choosing the plan.

engine/ is the pure algorithm; models.py stores projects as a history tree; services.py
loads, calls the engine and saves; runner.py runs queued steps in the background;
exchange.py exports and imports; the pages live in environment/writer/.
"""
