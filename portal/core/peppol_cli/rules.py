"""`manage.py peppol rules`: not built yet."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("rules", help="(not built yet)")
    parser.set_defaults(run=run)


def run(options, out, err) -> int:
    err.write("peppol rules is not built yet\n")
    return 2
