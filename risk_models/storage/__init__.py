"""Saved assessments and history (SQLAlchemy 2 + Alembic): SQLite by default, any SQLAlchemy URL
via DATABASE_URL."""
