"""Scenario library packs: identity and age (pack), checks (validate) and comparison (diff)."""
