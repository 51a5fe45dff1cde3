"""The PSB client against eConnect's own recorded answers (``vectors/``, from eConnect's .NET SDK tests and docs):
the wire it sends (token form, headers, document id, multipart part ``file``) and how it reads each answer."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from integrations.econnect.errors import (
    DocumentNotFound,
    DocumentRejected,
    EConnectServerError,
    InvalidCredentials,
    InvalidRequest,
    SenderNotAllowed,
)
from integrations.econnect.psb.auth import PsbCredentials
from integrations.econnect.psb.client import MAX_UPLOAD_BYTES, PsbClient, check_document_id, new_document_id
from integrations.econnect.psb.models import InvoiceResponse, ResponseAction, ResponseReason, ResponseStatus
from integrations.http import MalformedResponse

VECTORS = Path(__file__).parent / "vectors"
IDENTITY = "https://identity.example"
PSB = "https://psb.example"
PARTY = "NL:KVK:SENDER"


def vector(name: str):
    return json.loads((VECTORS / name).read_text())


class Recorder:
    """eConnect as a table of answers by (method, path); every request kept for the assertions."""

    def __init__(self, answers: dict[tuple[str, str], list[httpx.Response]]):
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.raw_path.decode().split("?")[0])
        if key == ("GET", "/.well-known/openid-configuration"):
            return httpx.Response(200, json={"token_endpoint": f"{IDENTITY}/connect/token"})
        if key == ("POST", "/connect/token"):
            queue = self.answers.get(key) or [httpx.Response(200, json=vector("auth/token-response.sdk.json"))]
            return queue.pop(0) if len(queue) > 1 else queue[0]
        queue = self.answers[key]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def calls(self, path_start: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith(path_start)]


def client(recorder: Recorder, **overrides) -> PsbClient:
    options = {
        "base_url": PSB,
        "identity_url": IDENTITY,
        "credentials": PsbCredentials("client_id", "client_secret"),
        "party_id": PARTY,
        "transport": httpx.MockTransport(recorder),
    }
    options.update(overrides)
    return PsbClient(**options)


SEND = ("POST", "/api/v1/NL%3AKVK%3ASENDER/salesInvoice/send")


def test_the_token_is_asked_with_client_credentials_and_scope_ap_at_the_discovered_endpoint():
    recorder = Recorder({("GET", "/api/v1/me"): [httpx.Response(200, json=vector("me/me.sdk.json"))]})

    name = client(recorder).me()

    token_request = recorder.calls("/connect/token")[0]
    form = {k: v[0] for k, v in parse_qs(token_request.content.decode()).items()}
    assert form == {
        "grant_type": "client_credentials",
        "scope": "ap",
        "client_id": "client_id",
        "client_secret": "client_secret",
    }
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert recorder.calls("/api/v1/me")[0].headers["Authorization"] == "Bearer valid_token"
    assert name == vector("me/me.sdk.json")["name"]


def test_the_password_grant_is_used_for_a_psb_user():
    recorder = Recorder({("GET", "/api/v1/me"): [httpx.Response(200, json={"name": "user"})]})

    client(recorder, credentials=PsbCredentials("client_id", "client_secret", username="user", password="pass")).me()

    form = parse_qs(recorder.calls("/connect/token")[0].content.decode())
    expected = vector("auth/token-requests.json")["password"]
    assert (form["grant_type"], form["username"], form["password"]) == (
        [expected["grant_type"]],
        [expected["username"]],
        [expected["password"]],
    )


def test_a_token_is_reused_until_it_nearly_expires_and_an_expired_one_is_renewed():
    expired = httpx.Response(200, json=vector("auth/token-response.expired.sdk.json"))
    fresh = httpx.Response(200, json=vector("auth/token-response.sdk.json"))
    recorder = Recorder(
        {
            ("POST", "/connect/token"): [expired, fresh],
            ("GET", "/api/v1/me"): [httpx.Response(200, json={"name": "x"})],
        }
    )
    psb = client(recorder)

    psb.me()
    psb.me()
    psb.me()

    assert len(recorder.calls("/connect/token")) == 2  # the expired one (expires_in -10) was used once only


def test_a_401_renews_the_token_once_then_the_credentials_are_refused():
    recorder = Recorder({("GET", "/api/v1/me"): [httpx.Response(401), httpx.Response(401)]})

    with pytest.raises(InvalidCredentials):
        client(recorder).me()

    assert len(recorder.calls("/api/v1/me")) == 2
    assert len(recorder.calls("/connect/token")) == 2


def test_a_refused_client_is_a_clear_credentials_error_with_the_oauth_code():
    error = httpx.Response(400, json=vector("auth/token-error.invalid-client.derived.json"))
    recorder = Recorder({("POST", "/connect/token"): [error]})

    with pytest.raises(InvalidCredentials) as refused:
        client(recorder).me()

    assert refused.value.code == "invalid_client"
    assert "client id and secret" in refused.value.message


def test_send_posts_the_ubl_as_part_file_with_the_saved_document_id():
    document_id = new_document_id()
    recorder = Recorder({SEND: [httpx.Response(200, json={"id": document_id})]})

    result = client(recorder).send_sales_invoice(b"<Invoice/>", document_id=document_id)

    sent = recorder.calls("/api/v1/")[0]
    assert sent.headers["X-EConnect-DocumentId"] == document_id
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"' in sent.content and b"<Invoice/>" in sent.content
    assert (result.document_id, result.already_processed) == (document_id, False)


def test_a_409_on_send_means_already_processed():
    document_id = new_document_id()
    recorder = Recorder({SEND: [httpx.Response(409, json=vector("errors/api409-duplicate.derived.json"))]})

    result = client(recorder).send_sales_invoice(b"<Invoice/>", document_id=document_id)

    assert (result.document_id, result.already_processed) == (document_id, True)


def test_a_document_over_24_mb_is_refused_before_anything_is_sent():
    recorder = Recorder({})

    with pytest.raises(DocumentRejected):
        client(recorder).send_sales_invoice(b"x" * (MAX_UPLOAD_BYTES + 1), document_id=new_document_id())

    assert recorder.requests == []


@pytest.mark.parametrize("bad", ["", "abc12", "with_underscore-1", "a@b.example.com", "x" * 65])
def test_a_document_id_against_econnects_rules_is_refused(bad):
    with pytest.raises(InvalidRequest):
        check_document_id(bad)


def test_a_new_document_id_follows_econnects_rules():
    assert check_document_id(new_document_id())


def test_403_keeps_econnects_code_message_and_request_id():
    recorder = Recorder({SEND: [httpx.Response(403, json=vector("errors/api403.sdk.json"))]})

    with pytest.raises(SenderNotAllowed) as refused:
        client(recorder).send_sales_invoice(b"<Invoice/>", document_id=new_document_id())

    assert refused.value.code == "API403"
    assert "0128d5a881606953f147b08b211826d1" in refused.value.message
    assert PARTY in refused.value.message


def test_a_plain_text_500_is_transient_with_the_sdks_code():
    body = (VECTORS / "errors/server-error-500.sdk.txt").read_text()
    recorder = Recorder({SEND: [httpx.Response(500, text=body, headers={"Retry-After": "7"})]})

    with pytest.raises(EConnectServerError) as failed:
        client(recorder).send_sales_invoice(b"<Invoice/>", document_id=new_document_id())

    assert failed.value.transient and failed.value.code == "PSB500.JSON02"
    assert failed.value.retry_after == 7


def test_400_on_send_is_a_rejected_document():
    body = {"code": "API400.USRMS1", "message": "Sender does not match the document."}
    recorder = Recorder({SEND: [httpx.Response(400, json=body)]})

    with pytest.raises(DocumentRejected) as rejected:
        client(recorder).send_sales_invoice(b"<Invoice/>", document_id=new_document_id())

    assert rejected.value.code == "API400.USRMS1" and not rejected.value.transient


def test_query_recipient_party_sends_the_candidates_and_reads_the_answer():
    path = ("POST", "/api/v1/NL%3AKVK%3ASENDER/salesInvoice/queryRecipientParty")
    answer = vector("sales-invoice/query-recipient-party.response.lookup-party.doc.json")
    recorder = Recorder({path: [httpx.Response(200, json=answer)]})

    found = client(recorder).query_recipient_party(vector("sales-invoice/query-recipient-party.request.sdk.json"))

    assert json.loads(recorder.calls("/api/v1/")[0].content) == ["NL:KVK:RECEIVER_1", "GLN:RECEIVER_GLN"]
    assert found == "NL:KVK:12345678"


def test_query_recipient_party_404_means_nobody_reachable():
    path = ("POST", "/api/v1/NL%3AKVK%3ASENDER/salesInvoice/queryRecipientParty")
    recorder = Recorder({path: [httpx.Response(404, json=vector("errors/api404-query-recipient.doc.json"))]})

    assert client(recorder).query_recipient_party(["NL:KVK:12345678"]) is None


def test_status_history_is_read_with_dotnet_timestamps():
    path = ("GET", "/api/v1/NL%3AKVK%3ASENDER/salesInvoice/doc-123456/status")
    recorder = Recorder({path: [httpx.Response(200, json=vector("sales-invoice/status.response.derived.json"))]})

    statuses = client(recorder).sales_invoice_status("doc-123456")

    assert [s.name for s in statuses] == ["Pending", "Validated", "Delivered"]
    assert statuses[-1].created_on.isoformat() == "2022-01-21T10:03:18.372619+00:00"


def test_an_unknown_document_is_document_not_found():
    path = ("GET", "/api/v1/NL%3AKVK%3ASENDER/purchaseInvoice/gone-123456/download")
    recorder = Recorder({path: [httpx.Response(404, json={"code": "API404", "message": "Not found."})]})

    with pytest.raises(DocumentNotFound):
        client(recorder).download_purchase_invoice("gone-123456")


def test_download_returns_the_bytes_exactly_as_sent():
    payload = b"\xef\xbb\xbf<?xml version='1.0'?>\r\n<Invoice>\xc3\xa9</Invoice>\r\n"
    path = ("GET", "/api/v1/NL%3AKVK%3ASENDER/purchaseInvoice/doc-123456/download")
    recorder = Recorder({path: [httpx.Response(200, content=payload)]})

    assert client(recorder).download_purchase_invoice("doc-123456") == payload


def test_an_empty_download_is_malformed_not_an_empty_invoice():
    path = ("GET", "/api/v1/NL%3AKVK%3ASENDER/purchaseInvoice/doc-123456/download")
    recorder = Recorder({path: [httpx.Response(200, content=b"")]})

    with pytest.raises(MalformedResponse):
        client(recorder).download_purchase_invoice("doc-123456")


def test_an_invoice_response_is_sent_with_the_codes_and_its_own_document_id():
    path = ("POST", "/api/v1/NL%3AKVK%3ASENDER/purchaseInvoice/doc-123456/response")
    recorder = Recorder(
        {path: [httpx.Response(200, json=vector("purchase-invoice/invoice-response.response.sdk.json"))]}
    )
    response = InvoiceResponse(
        ResponseStatus.REJECTED,
        reasons={ResponseReason.REFERENCES_INCORRECT: "Unknown order number"},
        actions={ResponseAction.ISSUE_NEW_INVOICE: "Please send a new invoice."},
    )
    response_id = new_document_id()

    answered = client(recorder).send_invoice_response("doc-123456", response, response_document_id=response_id)

    posted = recorder.calls("/api/v1/")[0]
    expected_shape = vector("purchase-invoice/invoice-response.reject.sdk.json")
    body = json.loads(posted.content)
    assert body["status"] == expected_shape["status"] == "RE"
    assert set(body["reasons"]) == set(expected_shape["reasons"]) and set(body["actions"]) == set(
        expected_shape["actions"]
    )
    assert posted.headers["X-EConnect-DocumentId"] == response_id
    assert answered == vector("purchase-invoice/invoice-response.response.sdk.json")["id"]


def test_a_rejection_without_a_reason_cannot_be_made():
    with pytest.raises(ValueError):
        InvoiceResponse(ResponseStatus.REJECTED)


def test_hooks_are_listed_and_put_in_the_sdk_shape():
    list_path, put_path = ("GET", "/api/v1/NL%3AKVK%3ASENDER/hook"), ("PUT", "/api/v1/NL%3AKVK%3ASENDER/hook")
    recorder = Recorder(
        {
            list_path: [httpx.Response(200, json=vector("hooks/hooks-list.sdk.json"))],
            put_path: [httpx.Response(200, json=vector("hooks/hook-put.response.sdk.json"))],
        }
    )
    psb = client(recorder)

    hooks = psb.hooks()
    stored = psb.put_hook(hooks[0])

    assert hooks and all(hook.id for hook in hooks)
    assert stored.id == vector("hooks/hook-put.response.sdk.json")["id"]
    put = json.loads(recorder.calls("/api/v1/")[-1].content)
    assert set(put) >= {"id", "name", "action", "topics", "isActive"}


def test_the_subscription_key_is_sent_only_when_configured():
    recorder = Recorder({("GET", "/api/v1/me"): [httpx.Response(200, json={"name": "x"})]})

    client(recorder, subscription_key="sub-key").me()
    client(recorder).me()

    with_key, without = recorder.calls("/api/v1/me")
    assert with_key.headers["Subscription-Key"] == "sub-key"
    assert "Subscription-Key" not in without.headers
