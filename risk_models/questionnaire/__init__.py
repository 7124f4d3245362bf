"""Answers: files and forms, bulk and scoped (per provider / model vendor) answers, XLSX send-out and
read-back, answer texts for reports."""
