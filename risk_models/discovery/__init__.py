"""Drafting an inventory from cloud billing (FOCUS) and ML-BOMs (CycloneDX), and what was found in plain words."""
