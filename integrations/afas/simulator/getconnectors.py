"""How Profit answers a GetConnector query: skip/take, filters with operators, strict ordering (APIS.md 2.3)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


class QueryError(Exception):
    """Profit answers 500 with its error body; ``message`` is the ``externalMessage``."""

    def __init__(self, message: str, error_number: int = -2147180999):
        super().__init__(message)
        self.message = message
        self.error_number = error_number


UNEXPECTED = "An unexpected error has occurred."
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?Z?$")


def paging(skip_text: str | None, take_text: str | None) -> tuple[int, int | None]:
    """(skip, take); take None = all rows. Defaults 0/100; -1/-1 = everything; other combinations fail."""
    try:
        skip = int(skip_text) if skip_text not in (None, "") else 0
        take = int(take_text) if take_text not in (None, "") else 100
    except ValueError as exc:
        raise QueryError(UNEXPECTED) from exc
    if skip == -1 and take == -1:
        return 0, None
    # [GUESS G-AFAS-5] take=0 is refused: PracticalAfas saw it return one row in 2017; refusing keeps clients honest.
    if skip < 0 or take < 1:
        raise QueryError(UNEXPECTED)
    return skip, take


def _split(text: str | None) -> list[list[str]]:
    if text is None:
        return []
    return [group.split(",") for group in text.split(";")]


def _comparable(value: Any, other: str) -> tuple[Any, Any]:
    """The row value and the filter value as things Python can compare the way Profit does."""
    if isinstance(value, bool):
        return value, other.lower() in ("true", "1")
    if isinstance(value, int | float):
        try:
            return float(value), float(other)
        except ValueError as exc:
            raise QueryError(UNEXPECTED) from exc
    text = "" if value is None else str(value)
    if _DATE.match(text) and _DATE.match(other):
        return text.rstrip("Z")[:19].ljust(19, "\0"), other.rstrip("Z")[:19].ljust(19, "\0")
    return text.lower(), other.lower()


def _matches(value: Any, operator: str, expected: str) -> bool:
    if operator == "8":
        return value is None or value == ""
    if operator == "9":
        return not (value is None or value == "")
    if value is None:
        return operator in ("7", "11", "12", "14")
    left, right = _comparable(value, expected)
    if operator == "1":
        return left == right
    if operator == "7":
        return left != right
    if operator in ("2", "3", "4", "5"):
        if not isinstance(left, type(right)):
            return False
        return {"2": left >= right, "3": left <= right, "4": left > right, "5": left < right}[operator]
    text, needle = str(left), str(right)
    return {
        "6": needle in text,
        "11": needle not in text,
        "10": text.startswith(needle),
        "12": not text.startswith(needle),
        "13": text.endswith(needle),
        "14": not text.endswith(needle),
        "15": needle in text,  # [GUESS G-AFAS-6] quick filter: contains
    }[operator]


def query_rows(
    rows: Sequence[Mapping[str, Any]], field_ids: Sequence[str], query: Mapping[str, str | None]
) -> tuple[int, int, list[Mapping[str, Any]]]:
    """Filter, order and page ``rows`` as Profit would. Returns (skip, take, page); take -1 when all were asked."""
    known = {f.lower(): f for f in field_ids}

    def field(name: str) -> str:
        actual = known.get(name.strip().lower())
        if actual is None:
            raise QueryError(f"Connector field '{name.strip()}' not found", -2147217900)
        return actual

    skip, take = paging(query.get("skip"), query.get("take"))
    fields, values, operators = (_split(query.get(k)) for k in ("filterfieldids", "filtervalues", "operatortypes"))
    if fields or values or operators:
        if not (len(fields) == len(values) == len(operators)) or any(
            not (len(f) == len(v) == len(o)) for f, v, o in zip(fields, values, operators, strict=False)
        ):
            raise QueryError(UNEXPECTED)
        groups = [
            [(field(f), o.strip(), v) for f, v, o in zip(fs, vs, os_, strict=True)]
            for fs, vs, os_ in zip(fields, values, operators, strict=True)
        ]
        for group in groups:
            for _, operator, _ in group:
                if operator not in {str(n) for n in range(1, 16)}:
                    raise QueryError(UNEXPECTED)
        rows = [row for row in rows if any(all(_matches(row.get(f), o, v) for f, o, v in g) for g in groups)]
    else:
        rows = list(rows)
    order = query.get("orderbyfieldids")
    if order:
        # Stable sorts from the last key to the first; None sorts first ascending [GUESS G-AFAS-7], as SQL Server does.
        for spec in reversed([s for s in order.split(",") if s.strip()]):
            descending = spec.strip().startswith("-")
            name = field(spec.strip().lstrip("-+"))
            rows.sort(key=lambda row, n=name: _sort_key(row.get(n)), reverse=descending)
    else:
        # Without an order Profit promises none; the simulator returns the rows in a shuffled but fixed order
        # (reverse insertion), so a client that forgets orderbyfieldids sees a different order than it assumed.
        rows = list(reversed(rows))
    page = rows[skip:] if take is None else rows[skip : skip + take]
    return (-1, -1, page) if take is None else (skip, take, page)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, float(value))
    return (2, str(value).lower())
