"""Subcommands of `manage.py peppol`. Each module has ``add_parser(subparsers)`` and a ``run(options, out, err) -> int``
set as the parser's default ``run``; the exit status is what ``run`` returns."""
