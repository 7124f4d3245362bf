"""Everything a person or a pipeline reads: JSON report, PDF (report.pdf: layout, drawings, sections),
XLSX, CSV, Markdown, methodology text, changes between saved assessments, plans."""
