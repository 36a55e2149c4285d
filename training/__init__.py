"""RISE and Retroformer training and evaluation. Arrives with its own issues."""
