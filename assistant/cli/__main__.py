"""`python -m assistant.cli`: the same entry point as the `satchel` script."""

from assistant.cli.app import main

raise SystemExit(main())
