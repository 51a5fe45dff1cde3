"""`manage.py peppol check-id`: not built yet."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("check-id", help="(not built yet)")
    parser.set_defaults(run=run)


def run(options, out, err) -> int:
    err.write("peppol check-id is not built yet\n")
    return 2
