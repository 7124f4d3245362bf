"""Saved assessments, audit trail, team answers and roles in SQLite or PostgreSQL (SQLAlchemy + Alembic)."""
