"""Messages stored as data: a key and its parameters, rendered in the reader's language when they are read.

A timeline entry (and any other text the portal stores for people to read later, such as an invoice's last error or
a contact's lookup explanation) is kept as a ``Msg``: the key of a translatable template and the parameters that go
into it. The English text is stored beside it for the audit trail, the admin's search and logs; pages render the key
again in the language of whoever reads it. Rows written before keys existed only have their English text, which is
shown as it is.

Parameters are plain JSON values, or typed values that are rendered per language: another ``Msg`` (nested), a
choice label (``Choice``), a date, a time or a date and time (``When``). Words that come from outside (a remote
system's error message, a supplier's name, an invoice number) are parameters, never part of a key.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.module_loading import import_string

from portal.events.catalogue import CATALOGUE, SYSTEM_ACTORS

__all__ = [
    "CATALOGUE",
    "Bilingual",
    "Choice",
    "Join",
    "Msg",
    "When",
    "actor_label",
    "english_and_data",
    "explained",
    "explanation_data",
    "render_data",
    "set_explanation",
]

# Choice labels may only be read from the portal's own TextChoices classes.
_CHOICE_PREFIX = "portal."


class Choice:
    """The label of a TextChoices value, e.g. ``Choice(OutgoingStatus, "ready")`` → "Ready to send" / "Klaar ..."."""

    __slots__ = ("path", "value")

    def __init__(self, choices: type | str, value: str):
        self.path = choices if isinstance(choices, str) else f"{choices.__module__}.{choices.__qualname__}"
        if not self.path.startswith(_CHOICE_PREFIX):
            raise ValueError(f"Choice labels come from portal TextChoices, not {self.path}")
        self.value = str(value)

    def render(self) -> str:
        try:
            choices = import_string(self.path)
            return str(choices(self.value).label)
        except (ImportError, ValueError):
            return self.value

    def as_data(self) -> dict[str, Any]:
        return {"$choice": self.path, "value": self.value}


class When:
    """A date, time or moment, written the reader's way (``6 Dec 2026``, ``6 december 2026``, ``14:03:22``)."""

    __slots__ = ("form", "value")
    FORMATS = {"date": "DATE_FORMAT", "datetime": "DATETIME_FORMAT", "time": "TIME_FORMAT"}

    def __init__(self, value: datetime.date | datetime.datetime, form: str | None = None):
        if form is None:
            form = "datetime" if isinstance(value, datetime.datetime) else "date"
        if form not in self.FORMATS:
            raise ValueError(f"Unknown form {form!r}")
        self.form, self.value = form, value

    def render(self) -> str:
        value = self.value
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            value = timezone.localtime(value)
        fmt = "H:i:s" if self.form == "time" else self.FORMATS[self.form]
        return formats.date_format(value, fmt)

    def as_data(self) -> dict[str, Any]:
        return {"$when": self.value.isoformat(), "form": self.form}


class Bilingual:
    """A text that already exists in English and Dutch (e.g. an ``integrations`` ``Text``: a refusal reason)."""

    __slots__ = ("en", "nl")

    def __init__(self, en: str, nl: str):
        self.en, self.nl = str(en), str(nl)

    @classmethod
    def of(cls, text: Any) -> Bilingual:
        return cls(text.en, text.nl)

    def render(self) -> str:
        return self.nl if (translation.get_language() or "en").startswith("nl") else self.en

    def as_data(self) -> dict[str, Any]:
        return {"$text": {"en": self.en, "nl": self.nl}}


class Join:
    """Several values shown as one, e.g. a list of changes joined by ", "."""

    __slots__ = ("items", "sep")

    def __init__(self, items, sep: str = ", "):
        self.items, self.sep = list(items), sep

    def render(self) -> str:
        return self.sep.join(str(_render_value(item)) for item in self.items)

    def english(self) -> str:
        with translation.override("en"):
            return self.render()

    def as_data(self) -> dict[str, Any]:
        return {"$join": [_value_data(item) for item in self.items], "sep": self.sep}


class Msg:
    """A message key of ``CATALOGUE`` with its parameters. Unknown keys and missing parameters fail at once."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, **params: Any):
        if key not in CATALOGUE:
            raise KeyError(f"No message {key!r} in portal.events.catalogue")
        self.key = key
        self.params = params
        self.english()  # every parameter the template names must be there

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, {self.params!r})"

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        """In the active language."""
        template = str(CATALOGUE[self.key])
        values = {name: _render_value(value) for name, value in self.params.items()}
        return template % values if "%(" in template else template

    def english(self) -> str:
        with translation.override("en"):
            return self.render()

    def as_data(self) -> dict[str, Any]:
        return {"key": self.key, "params": {name: _value_data(value) for name, value in self.params.items()}}

    @classmethod
    def from_data(cls, data: Any) -> Msg | None:
        """A Msg from ``as_data``; None when the data is empty, names no known key or lacks a parameter."""
        if not isinstance(data, Mapping) or data.get("key") not in CATALOGUE:
            return None
        params = data.get("params") or {}
        if not isinstance(params, Mapping):
            return None
        try:
            return cls(data["key"], **{str(name): _value_from_data(value) for name, value in params.items()})
        except (KeyError, TypeError, ValueError):
            return None


def explanation_data(message: Msg | Join) -> dict[str, Any]:
    """A message, or several joined, as data for a ``*_data`` field."""
    return (Msg("text.plain", text=message) if isinstance(message, Join) else message).as_data()


def english_and_data(message: Msg | Join | str | None) -> tuple[str, dict[str, Any]]:
    """What is stored of a message: its English text (the audit trail, the admin's search) and its key data (shown
    in the reader's language). A plain string (a remote system's words) is kept as it is, without a key."""
    if message is None:
        return "", {}
    if isinstance(message, str):
        return message, {}
    return message.english(), explanation_data(message)


def explained(field: str, message: Msg | Join | str | None) -> dict[str, Any]:
    """``field`` and ``<field>_data`` for a message, e.g. for ``QuerySet.update(**explained("lookup_error", m))``."""
    text, data = english_and_data(message)
    return {field: text, f"{field}_data": data}


def set_explanation(obj: Any, field: str, message: Msg | Join | str | None) -> None:
    """Set ``field`` to the message in English and ``<field>_data`` to its key (None clears both). Not saved."""
    for name, value in explained(field, message).items():
        setattr(obj, name, value)


def render_data(data: Any, fallback: str = "") -> str:
    """A stored message in the reader's language; the stored English ``fallback`` when it has no (known) key."""
    message = Msg.from_data(data)
    return message.render() if message is not None else fallback


def actor_label(name: str) -> str:
    """The part of the system that acted, in the reader's language (unknown names as they are)."""
    label = SYSTEM_ACTORS.get(name)
    return str(label) if label is not None else name


def _render_value(value: Any) -> Any:
    if isinstance(value, Msg | Choice | When | Bilingual | Join):
        return value.render()
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return formats.number_format(value, force_grouping=True)
    if isinstance(value, Decimal):
        return formats.number_format(value, decimal_pos=2, force_grouping=True)
    return value


def _value_data(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"$msg": value.as_data()}
    if isinstance(value, Choice | When | Bilingual | Join):
        return value.as_data()
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, Promise):
        raise TypeError("Store a Msg key, not a translated string: it would be frozen in one language")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"A message parameter must be JSON, Msg, Choice or When, not {type(value).__name__}")


def _value_from_data(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    if "$msg" in value:
        nested = Msg.from_data(value["$msg"])
        if nested is None:
            raise ValueError("unknown nested message")
        return nested
    if "$choice" in value:
        return Choice(str(value["$choice"]), str(value.get("value", "")))
    if "$when" in value:
        form = str(value.get("form", "datetime"))
        parsed = (
            datetime.date.fromisoformat(value["$when"])
            if form == "date"
            else datetime.datetime.fromisoformat(value["$when"])
        )
        return When(parsed, form)
    if "$text" in value and isinstance(value["$text"], Mapping):
        return Bilingual(value["$text"].get("en", ""), value["$text"].get("nl", ""))
    if "$join" in value and isinstance(value["$join"], list):
        return Join([_value_from_data(item) for item in value["$join"]], str(value.get("sep", ", ")))
    if "$decimal" in value:
        return Decimal(str(value["$decimal"]))
    raise ValueError("unknown parameter type")
