"""Pages of a list newest first by keyset on (created_at, id): no COUNT and no OFFSET, however large the table.

A position is the (created_at, id) of a row. The plain bound on created_at comes first in each filter, so the
index is searched from the position on instead of being walked from the newest row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

Position = tuple[datetime, int]


@dataclass(frozen=True)
class Window:
    rows: list[Any]
    newer: Any | None  # the row a "newer" link starts from; None on the first page
    older: Any | None  # the row an "older" link starts from; None on the last page


def newest_first(
    queryset: QuerySet, *, size: int, older_than: Position | None = None, newer_than: Position | None = None
) -> Window:
    """One page after ``older_than`` or before ``newer_than`` (or the first page); one query, or two when paging
    back reaches the top (the first page is then shown as it is now, full)."""
    if newer_than is not None:
        created_at, pk = newer_than
        rows = list(
            queryset.filter(created_at__gte=created_at)
            .filter(Q(created_at__gt=created_at) | Q(pk__gt=pk))
            .order_by("created_at", "pk")[: size + 1]
        )
        if len(rows) <= size:
            return newest_first(queryset, size=size)
        rows = rows[:size][::-1]
        return Window(rows, rows[0], rows[-1])
    if older_than is not None:
        created_at, pk = older_than
        queryset = queryset.filter(created_at__lte=created_at).filter(Q(created_at__lt=created_at) | Q(pk__lt=pk))
    rows = list(queryset.order_by("-created_at", "-pk")[: size + 1])
    page = rows[:size]
    # An empty page after a position has no row to go back from: the list offers its newest rows instead.
    return Window(page, page[0] if older_than is not None and page else None, page[-1] if len(rows) > size else None)
