"""Safe reading and writing of what users hand us: YAML/JSON without aliases, file errors, escaping for
Markdown and the terminal, the one money parser (io.numbers), the one XLSX reader (io.xlsx), and the
messages for optional features whose extra is not installed (io.extras). Imports nothing of the project."""
