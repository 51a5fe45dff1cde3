"""The duplicate benchmark's loader fills every column of IncomingInvoice (PostgreSQL: it loads with COPY), so a new
field on the model breaks this test rather than ``make bench``."""

from __future__ import annotations

import pytest
from django.db import connection

from benchmarks.duplicate_check import load_earlier
from portal.incoming_invoices.models import IncomingInvoice
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the loader uses PostgreSQL's COPY"),
]


def test_the_loader_copies_rows_that_read_back_as_acknowledged_documents():
    environment = EnvironmentFactory()

    sample = load_earlier(rows=300, environment_ids=[environment.pk], suppliers=7, seed=3)

    assert IncomingInvoice.objects.filter(environment=environment).count() == 300
    assert sample
    loaded = IncomingInvoice.objects.get(environment=environment, sha256=sample[0].sha256)
    assert loaded.status == IncomingInvoice.Status.ACKNOWLEDGED
    assert loaded.last_error_data == {}
    assert loaded.document_removed_at is None
