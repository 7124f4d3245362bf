"""Widgets and figures several pages share (charts, the scenario-pack panel, the rejected-rows editor).

Between the pages (dashboard/views/) and the session state (dashboard/state/): components may use
the state, never a page; the state uses no component (import-linter, pyproject.toml)."""
