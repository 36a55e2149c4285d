"""Model backends. Each turns prompts into `Generation`s; the gateway does the rest."""
