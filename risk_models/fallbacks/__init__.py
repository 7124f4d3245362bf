"""Fallback options: feasibility, target state, recommendation (recommendations_of an Assessment),
exit plans and what-if plans."""
