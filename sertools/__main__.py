"""``python -m sertools``: the command line."""

from .cli import main

raise SystemExit(main())
