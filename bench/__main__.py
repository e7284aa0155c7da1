"""`python -m bench`: the command line of bench.cli."""

from bench.cli import main

raise SystemExit(main())
