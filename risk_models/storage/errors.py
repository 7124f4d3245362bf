"""Storage errors, importable without SQLAlchemy (the CLI catches them on every command)."""


class StorageError(RuntimeError):
    """The database cannot be reached, created or upgraded (message in plain words)."""
