"""RecurrentGPT: long text written paragraph by paragraph. Arrives with its own issue."""
