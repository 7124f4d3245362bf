"""Safe reading and writing of what users hand us: YAML/JSON without aliases, file errors, escaping for
Markdown and the terminal, and the one money parser (io.numbers). Imports nothing of the project."""
