"""Users, roles and what each role may do (checked by the storage calls, not by the app's buttons)."""
