"""Run the command line: ``python -m coverage``."""

from coverage.cli import main

raise SystemExit(main())
