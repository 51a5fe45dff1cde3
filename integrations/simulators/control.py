"""Reading a ``/_sim`` control request safely: the one JSON reader every control handler uses, and typed field reads.

A control body is untrusted input like any other: empty, ``null``, a list where an object belongs, not JSON at all,
invalid UTF-8, nested ten thousand levels deep or a number with five thousand digits. Each becomes a
``ControlError``, which the kit answers with ``400 {"error": "..."}`` naming what is wrong (and, for a field, which
field), never an exception escaping the handler. The same strict parser backs ``Request.json`` for the simulated
services, whose handlers turn its ``ValueError`` into the service's own error body.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

MAX_JSON_DEPTH = 64  # control bodies are a few levels deep; fixtures about six
MAX_NUMBER_DIGITS = 40  # beyond any identifier, amount or count the simulators keep
MAX_TEXT_LENGTH = 100_000
_MISSING: Any = object()
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TYPE_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


class ControlError(ValueError):
    """A control request the simulator refuses; the kit answers ``400 {"error": message}``."""


def type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS + 10:
        raise ValueError(f"a number with {len(text)} characters is too long")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ValueError(f"a number with {len(text.lstrip('-'))} digits is too long (at most {MAX_NUMBER_DIGITS})")
    return int(text)


def _depth(value: Any) -> int:
    """How deeply lists and objects nest (iterative: a deep value must not exhaust the stack here either)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(data: bytes | str) -> Any:
    """Strict JSON: no NaN/Infinity, no out-of-range or overlong numbers, at most ``MAX_JSON_DEPTH`` levels.

    Every refusal is a ``ValueError`` with a message a person can act on (``RecursionError`` and
    ``UnicodeDecodeError`` included)."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except RecursionError:
        raise ValueError(f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"the body is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:  # our own refusals, and int() beyond Python's digit limit
        raise ValueError(f"the body is not acceptable JSON: {exc}") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    return value


def read_control_json(body: bytes, expected: type = dict) -> Any:
    """The body of a control request as ``expected`` (an object unless told otherwise).

    An empty body is an empty object (or list): every control endpoint has defaults for what it is not told."""
    if not body.strip():
        return expected()
    try:
        value = parse_json(body)
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    if not isinstance(value, expected):
        raise ControlError(f"the body must be {_TYPE_NAMES.get(expected, expected.__name__)}, not {type_name(value)}")
    return value


def check_text(value: str, field: str, *, max_length: int = MAX_TEXT_LENGTH, control_characters=False) -> str:
    """``value`` as text that can be stored, encoded and put into XML; a ``ControlError`` naming ``field`` if not."""
    if len(value) > max_length:
        raise ControlError(f"{field}: at most {max_length} characters, not {len(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ControlError(f"{field}: not valid text (a lone surrogate)") from None
    if not control_characters and _CONTROL_CHARACTER.search(value):
        raise ControlError(f"{field}: control characters are not allowed")
    return value


SCALAR_TYPES = (str, int, float, bool, type(None))


def check_scalar(value: Any, field: str) -> Any:
    """A field value as the simulated services keep them: text, a number, true/false or null."""
    if not isinstance(value, SCALAR_TYPES):
        raise ControlError(f"{field}: must be text, a number, true/false or null, not {type_name(value)}")
    if isinstance(value, str):
        check_text(value, field, max_length=10_000)
    return value


class ControlSpec:
    """Typed reads of one JSON object of a control request. A missing field takes its default (required without
    one); a field of the wrong type or out of range raises ``ControlError`` with the field's name (``where`` +
    name, e.g. ``lines[2].price``)."""

    REQUIRED: Any = _MISSING  # as a default: the field must be there

    def __init__(self, data: Any, *, where: str = "") -> None:
        if not isinstance(data, dict):
            raise ControlError(f"{where or 'the body'}: must be an object, not {type_name(data)}")
        self.data = data
        self.where = where

    @classmethod
    def of(cls, body: bytes) -> ControlSpec:
        return cls(read_control_json(body, dict))

    def name(self, field: str) -> str:
        return f"{self.where}.{field}" if self.where else field

    def has(self, field: str) -> bool:
        return field in self.data

    def only(self, *fields: str) -> ControlSpec:
        unknown = sorted(set(self.data) - set(fields))
        if unknown:
            raise ControlError(f"{self.where or 'the body'}: unknown field(s) {unknown}; known: {sorted(fields)}")
        return self

    def _get(self, field: str, default: Any) -> tuple[bool, Any]:
        """(present, value): the default when the field is missing, a ``ControlError`` when it has none."""
        if field in self.data:
            return True, self.data[field]
        if default is _MISSING:
            raise ControlError(f"{self.name(field)}: required")
        return False, default

    def _wrong(self, field: str, what: str, value: Any) -> ControlError:
        return ControlError(f"{self.name(field)}: must be {what}, not {type_name(value)}")

    def text(
        self,
        field: str,
        default: Any = _MISSING,
        *,
        choices: Iterable[str] | None = None,
        nullable: bool = False,
        allow_empty: bool = True,
        max_length: int = MAX_TEXT_LENGTH,
        control_characters: bool = False,
        numbers: bool = False,
    ) -> Any:
        """Text; ``numbers`` also takes an integer (written as text, e.g. a debtor number sent as 10001)."""
        present, value = self._get(field, default)
        if not present:
            return value
        if value is None and nullable:
            return None
        if numbers and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self._wrong(field, "text" + (" or null" if nullable else ""), value)
        check_text(value, self.name(field), max_length=max_length, control_characters=control_characters)
        if not allow_empty and not value.strip():
            raise ControlError(f"{self.name(field)}: must not be empty")
        if choices is not None and value not in (options := tuple(choices)):
            raise ControlError(f"{self.name(field)}: must be one of {list(options)}, not {value[:50]!r}")
        return value

    def number(
        self,
        field: str,
        default: Any = _MISSING,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        integer: bool = False,
        nullable: bool = False,
    ) -> Any:
        present, value = self._get(field, default)
        if not present:
            return value
        if value is None and nullable:
            return None
        kinds = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            what = "an integer" if integer else "a number"
            raise self._wrong(field, what + (" or null" if nullable else ""), value)
        if minimum is not None and value < minimum:
            raise ControlError(f"{self.name(field)}: must be at least {minimum:g}, not {value:g}")
        if maximum is not None and value > maximum:
            raise ControlError(f"{self.name(field)}: must be at most {maximum:g}, not {value:g}")
        return value

    def boolean(self, field: str, default: Any = _MISSING) -> Any:
        present, value = self._get(field, default)
        if not present:
            return value
        if not isinstance(value, bool):
            raise self._wrong(field, "true or false", value)
        return value

    def object(self, field: str, default: Any = _MISSING, *, nullable: bool = False) -> Any:
        """The field as a nested ``ControlSpec`` (``default`` as is when missing; null too when ``nullable``)."""
        present, value = self._get(field, default)
        if not present:
            return value
        if value is None and nullable:
            return default if default is not _MISSING else None
        if not isinstance(value, dict):
            raise self._wrong(field, "an object", value)
        return ControlSpec(value, where=self.name(field))

    def list(self, field: str, default: Any = _MISSING, *, max_items: int = 10_000, nullable: bool = False) -> Any:
        present, value = self._get(field, default)
        if not present:
            return value
        if value is None and nullable:
            return default if default is not _MISSING else None
        if not isinstance(value, list):
            raise self._wrong(field, "a list", value)
        if len(value) > max_items:
            raise ControlError(f"{self.name(field)}: at most {max_items} items, not {len(value)}")
        return value

    def objects(self, field: str, default: Any = _MISSING, *, max_items: int = 10_000, nullable: bool = False):
        """A list of objects, each a ``ControlSpec`` named ``field[index]``."""
        items = self.list(field, default, max_items=max_items, nullable=nullable)
        if field not in self.data or items is None:
            return items
        return [ControlSpec(item, where=f"{self.name(field)}[{index}]") for index, item in enumerate(items)]

    def texts(self, field: str, default: Any = _MISSING, *, nullable: bool = False, max_items: int = 10_000):
        items = self.list(field, default, max_items=max_items, nullable=nullable)
        if field not in self.data or items is None:
            return items
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise ControlError(f"{self.name(field)}[{index}]: must be text, not {type_name(item)}")
            check_text(item, f"{self.name(field)}[{index}]")
        return list(items)

    def rows(self, field: str, default: Any = _MISSING, *, max_items: int = 100_000) -> Any:
        """A list of rows as the simulated services keep them: objects of scalar values (see ``check_scalar``)."""
        items = self.list(field, default, max_items=max_items)
        if field not in self.data:
            return items
        for index, item in enumerate(items):
            check_row(item, f"{self.name(field)}[{index}]")
        return items


def check_row(row: Any, where: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise ControlError(f"{where}: a row must be an object, not {type_name(row)}")
    for key, value in row.items():
        check_text(key, f"{where} field name", max_length=200)
        check_scalar(value, f"{where}.{key}")
    return row
