"""The inventory as a register with versions (import and validation live in inventory_import)."""
