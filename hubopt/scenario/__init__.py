"""Scenario YAML: schema, loading with `extends`, what-ifs and sweeps."""
