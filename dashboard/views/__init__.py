"""The pages: Streamlit scripts run by st.navigation (dashboard/app.py), never imported.

A package only so that import-linter sees their imports (pyproject.toml): pages sit above the
components and the session state, and no page imports another."""
