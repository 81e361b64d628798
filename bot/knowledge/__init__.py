"""The YAML knowledge: schema records, loading and validation, coverage reports."""
