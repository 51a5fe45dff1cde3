"""Thin tasks of the portal as a whole: load nothing, call one service."""

from __future__ import annotations

from celery import shared_task

from portal.documents import retention


@shared_task(name="documents.expire")
def expire_documents() -> int:
    """Remove the documents whose retention period is over (bounded per run); returns how many were removed."""
    return len(retention.documents_expire().documents)
