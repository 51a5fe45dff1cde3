"""Structured logs: JSON lines in production, plain lines in development, each with the current correlation id.

Configured in ``settings.LOGGING`` (``LOG_FORMAT``). The id itself lives in ``integrations.correlation``; it is bound
for a web request by ``portal.core.middleware.CorrelationIdMiddleware`` and for a Celery task by the signals in
``portal.celery_app``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from integrations.correlation import current_correlation_id

NO_CORRELATION_ID = "-"

# Attributes every LogRecord has; anything else on a record was passed as ``extra=`` and is added to the JSON.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime", "correlation_id"}
)


class CorrelationIdFilter(logging.Filter):
    """Puts the current correlation id on every record as ``correlation_id`` (attach it to handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", ""):
            record.correlation_id = current_correlation_id() or NO_CORRELATION_ID
        return True


class UrlQueryRedactionFilter(logging.Filter):
    """Removes query strings from URLs in a record's arguments: a URL may carry a key (eConnect's subscriptionKey).

    Attached to the ``httpx`` logger (which logs every request's full URL at INFO), so the key stays out of the
    logs even when someone turns that logger up.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_without_query(arg) for arg in record.args)
        return True


def _without_query(value: object) -> object:
    text = str(value) if type(value).__name__ == "URL" else value
    if isinstance(text, str) and "://" in text and "?" in text:
        return text.split("?", 1)[0] + "?[query removed]"
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation_id, then exception and extra fields.

    Extra fields are kept only when they are plain values (str, int, float, bool, None): an object passed as extra
    (Django passes the request) could print headers or cookies.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "") or current_correlation_id() or NO_CORRELATION_ID,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in entry and isinstance(value, str | int | float | bool):
                entry[key] = value
        return json.dumps(entry, ensure_ascii=False, default=str)


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"


def logging_config(*, log_format: str, level: str) -> dict:
    """The ``LOGGING`` dict: ``log_format`` is "json" or "plain"."""
    if log_format not in ("json", "plain"):
        raise ValueError(f'LOG_FORMAT must be "json" or "plain", not {log_format!r}.')
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "correlation_id": {"()": "portal.core.logging.CorrelationIdFilter"},
            "url_query_redaction": {"()": "portal.core.logging.UrlQueryRedactionFilter"},
        },
        "formatters": {
            "plain": {"format": PLAIN_FORMAT},
            "json": {"()": "portal.core.logging.JsonFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["correlation_id"]}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # httpx logs full URLs at INFO; a URL may carry a key (e.g. eConnect's subscriptionKey).
            # integrations.http logs each call's path instead; if httpx is turned up, its queries are removed.
            "httpx": {"level": "WARNING", "filters": ["url_query_redaction"]},
            "httpcore": {"level": "WARNING"},
        },
    }
