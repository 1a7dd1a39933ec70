"""Run the command line: ``python -m coverage``."""

from coverage.cli.main import main

raise SystemExit(main())
