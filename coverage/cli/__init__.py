"""The command line, ``python -m coverage``: one parser, shared input flags, one handler each."""
