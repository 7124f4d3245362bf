"""The command line: one module per command group; shared output and input helpers in cli.common."""
