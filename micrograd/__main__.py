"""``python -m micrograd``: the same command line as the ``micrograd`` console script."""

from micrograd.cli import main

raise SystemExit(main())
