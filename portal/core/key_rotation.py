"""Rotation of the field-encryption key: re-encrypt every encrypted value with the first key of FIELD_ENCRYPTION_KEY.

The procedure (``manage.py rotate_encryption_key``):

1. Set ``FIELD_ENCRYPTION_KEY="new,old"`` everywhere (web, worker, beat) and restart them: they now encrypt with the
   new key and still read the old one.
2. Run the command. It finds every encrypted column generically (every concrete model field of the encrypted field
   classes, the encryption canary included), first checks that every stored value decrypts with one of the keys
   (it refuses to change anything otherwise and names the rows), then re-encrypts in batches, each batch in its own
   transaction with its rows locked, and finally checks that every value decrypts with the new key alone.
3. Set ``FIELD_ENCRYPTION_KEY="new"`` and restart: the old key is retired.

Values are read and written as stored ciphertext (raw SQL), so no model ``save()``, signal or ``auto_now`` runs and
the ciphertext never passes through a decrypting field. Running it twice is harmless.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from encrypted_model_fields.fields import EncryptedMixin

DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class EncryptedTable:
    model: type[models.Model]
    fields: tuple[models.Field, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label


@dataclass
class TableCount:
    label: str
    columns: tuple[str, ...]
    rows: int = 0
    values: int = 0
    under_older_key: int = 0  # values the first key alone could not read before the rotation


@dataclass
class RotationResult:
    dry_run: bool
    tables: list[TableCount] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)

    @property
    def values(self) -> int:
        return sum(table.values for table in self.tables)

    @property
    def under_older_key(self) -> int:
        return sum(table.under_older_key for table in self.tables)


class UndecryptableValues(Exception):
    """Some stored values decrypt with none of the configured keys: nothing was changed."""

    def __init__(self, where: Sequence[str]):
        self.where = list(where)
        shown = "; ".join(self.where[:20]) + (f"; and {len(self.where) - 20} more" if len(self.where) > 20 else "")
        super().__init__(
            f"{len(self.where)} stored value(s) cannot be decrypted with any key in FIELD_ENCRYPTION_KEY, so nothing "
            f"was re-encrypted: {shown}. Add the key they were stored with to FIELD_ENCRYPTION_KEY (after the new "
            "one), or clear those credentials and enter them again."
        )


class RotationIncomplete(Exception):
    """Values changed during the rotation (a process still encrypting with an old key); run the command again."""

    def __init__(self, where: Sequence[str]):
        self.where = list(where)
        super().__init__(
            f"{len(self.where)} value(s) are not under the first key after the rotation ({'; '.join(self.where[:20])}"
            f"{'; ...' if len(self.where) > 20 else ''}): a process still runs with an old FIELD_ENCRYPTION_KEY. "
            "Restart web, worker and beat with the new key first, then run the command again. Keep the old key "
            "configured until it passes."
        )


def encrypted_tables() -> list[EncryptedTable]:
    """Every model with encrypted fields (found by field class, so a new encrypted field is rotated too)."""
    tables = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        fields = tuple(f for f in meta.concrete_fields if isinstance(f, EncryptedMixin))
        if fields:
            tables.append(EncryptedTable(model, fields))
    return sorted(tables, key=lambda table: table.label)


def encryption_key_rotate(
    *, keys: Sequence[str] | None = None, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> RotationResult:
    """Re-encrypt every encrypted value with ``keys[0]`` (default: FIELD_ENCRYPTION_KEY). See the module docstring.

    Raises ``UndecryptableValues`` (before changing anything) when a value decrypts with none of the keys.
    """
    keys = list(keys if keys is not None else settings.FIELD_ENCRYPTION_KEY)
    if not keys:
        raise ValueError("FIELD_ENCRYPTION_KEY has no key.")
    first, every = Fernet(keys[0]), MultiFernet([Fernet(key) for key in keys])
    tables = encrypted_tables()

    undecryptable = []
    result = RotationResult(dry_run=dry_run)
    for table in tables:
        count = TableCount(table.label, tuple(f.name for f in table.fields))
        result.tables.append(count)
        for pk, values in _rows(table, batch_size=batch_size):
            count.rows += 1
            for model_field, value in zip(table.fields, values, strict=True):
                if value is None:
                    continue
                count.values += 1
                if not _decrypts(first, value):
                    count.under_older_key += 1
                    if not _decrypts(every, value):
                        undecryptable.append(f"{table.label} #{pk} {model_field.name}")
    if undecryptable:
        raise UndecryptableValues(undecryptable)
    if dry_run:
        return result

    for table in tables:
        after = None
        while True:
            with transaction.atomic():
                batch = list(_batch(table, after=after, size=batch_size, lock=True))
                for pk, values in batch:
                    _write(table, pk, [None if value is None else _rotate(every, value) for value in values])
            if len(batch) < batch_size:
                break
            after = batch[-1][0]

    leftovers = [
        f"{table.label} #{pk} {model_field.name}"
        for table in tables
        for pk, values in _rows(table, batch_size=batch_size)
        for model_field, value in zip(table.fields, values, strict=True)
        if value is not None and not _decrypts(first, value)
    ]
    if leftovers:  # written meanwhile by a process that still encrypts with an old key
        raise RotationIncomplete(leftovers)
    return result


def _decrypts(crypter: Fernet | MultiFernet, value: str) -> bool:
    try:
        crypter.decrypt(value.encode())
    except InvalidToken:
        return False
    return True


def _rotate(crypter: MultiFernet, value: str) -> str:
    try:
        return crypter.rotate(value.encode()).decode()
    except InvalidToken as exc:  # changed since the check: this batch's transaction rolls back
        raise RotationIncomplete(["a value written during the rotation with a key not configured here"]) from exc


def _rows(table: EncryptedTable, *, batch_size: int) -> Iterator[tuple[object, list[str | None]]]:
    after = None
    while True:
        batch = list(_batch(table, after=after, size=batch_size, lock=False))
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1][0]


def _batch(table: EncryptedTable, *, after, size: int, lock: bool) -> list[tuple[object, list[str | None]]]:
    """One batch of (pk, stored ciphertexts) after ``after`` in pk order, read raw (no decrypting field)."""
    quote = connection.ops.quote_name
    meta = table.model._meta
    pk = quote(meta.pk.column)
    columns = ", ".join(quote(f.column) for f in table.fields)
    where, params = (f"WHERE {pk} > %s", [after]) if after is not None else ("", [])
    sql = f"SELECT {pk}, {columns} FROM {quote(meta.db_table)} {where} ORDER BY {pk} LIMIT %s"
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, size])
        return [(row[0], list(row[1:])) for row in cursor.fetchall()]


def _write(table: EncryptedTable, pk, values: list[str | None]) -> None:
    quote = connection.ops.quote_name
    meta = table.model._meta
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in table.fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s", [*values, pk]
        )
