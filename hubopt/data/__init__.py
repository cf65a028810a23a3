"""Data tables: contract, readers, validation."""
