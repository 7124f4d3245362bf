"""Report renderers over the JSON report of `assess`: PDF, XLSX, CSV, JSON and Markdown."""
