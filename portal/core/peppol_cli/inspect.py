"""`manage.py peppol inspect`: not built yet."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("inspect", help="(not built yet)")
    parser.set_defaults(run=run)


def run(options, out, err) -> int:
    err.write("peppol inspect is not built yet\n")
    return 2
