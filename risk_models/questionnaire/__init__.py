"""The questionnaire at portfolio scale: scoped (inherited) answers, bulk edits, XLSX send-out
and read-back, and the value of information of each unanswered question."""
