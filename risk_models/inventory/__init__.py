"""The deployment register: read and validate files (per-row errors), regions, plausibility warnings,
export, template, versions (diff between register versions)."""
