"""Roles and permissions, team-mode configuration (OpenID Connect)."""
