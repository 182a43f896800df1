"""Format commands: convert, validate, stats (owned by the formats/CLI work)."""
