"""Scenario packs: load, label and age, validate, and diff two packs (their portfolio effect is in
engine.pack_effect)."""
