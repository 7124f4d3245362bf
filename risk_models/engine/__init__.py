"""Scores, closed-form and simulated losses, concentration, drivers, value of information, and the
Assessment that ties them together. Knows nothing of fallbacks, reports, storage or the app."""
