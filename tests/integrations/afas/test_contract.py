"""The simulator against AFAS's official OpenAPI specs (../shared/specs/afas, see its SOURCES.md): the paths and
methods it serves exist there, requests it accepts carry the fields the spec requires, and its answers have the
documented shapes. Skipped (with the reason) where the specs are absent; in CI their absence fails."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path

import httpx
import pytest

from integrations.demo_data import ENVIRONMENTS
from tests.integrations.afas.conftest import DEMO
from tests.integrations.afas.test_profit_writes import supplier_ubl

SPECS = Path(os.environ.get("AFAS_SPECS_DIR", Path(__file__).resolve().parents[4] / "shared" / "specs" / "afas"))
if not SPECS.is_dir():
    SPECS = Path("/work/shared/specs/afas")


@pytest.fixture(scope="module")
def specs() -> dict[str, dict]:
    if not (SPECS / "profit" / "en").is_dir():
        reason = f"the official AFAS OpenAPI specs are not on this machine ({SPECS})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, but CI must run the contract tests")
        pytest.skip(reason)
    loaded = {
        path.stem: json.loads(path.read_text(encoding="utf-8")) for path in (SPECS / "profit" / "en").glob("*.json")
    }
    loaded["sb"] = json.loads((SPECS / "sb" / "en" / "6-0-0.json").read_text(encoding="utf-8"))
    return loaded


def _schema_type_ok(value, schema: dict) -> bool:
    kind = schema.get("type")
    if value is None:
        return schema.get("nullable", True)  # AFAS writes null for empty fields
    return {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        None: True,
    }[kind]


def assert_matches(value, schema: dict, where: str = "$") -> None:
    """Types of every documented property present in ``value`` (the AFAS specs state no required response fields)."""
    assert _schema_type_ok(value, schema), f"{where}: {value!r} is not {schema.get('type')}"
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key in value:
                assert_matches(value[key], sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            assert_matches(item, schema["items"], f"{where}[{index}]")


def _path(spec: dict, path: str) -> dict:
    lowered = {p.lower(): item for p, item in spec["paths"].items()}
    assert path.lower() in lowered, f"{path} is not in the spec"
    return lowered[path.lower()]


def _ok_schema(operation: dict, status: str = "200") -> dict:
    return operation["responses"][status]["content"]["application/json"]["schema"]


def _auth() -> dict:
    return {"Authorization": "AfasToken " + base64.b64encode(DEMO.afas_token.encode()).decode()}


PROFIT = "/12345/rest/ProfitRestServices"
DOSSIERS = "Dossiers en bijlagen en workflows"


@pytest.mark.parametrize(
    ("spec_name", "path", "method"),
    [
        (DOSSIERS, "/MetaInfo", "get"),
        (DOSSIERS, "/Metainfo/{Type}/{Endpoint}", "get"),
        (DOSSIERS, "/ProfitVersion", "get"),
        (DOSSIERS, "/connectors/{Endpoint}", "get"),
        (DOSSIERS, "/SubjectConnector", "get"),
        (DOSSIERS, "/connectors/ProfitSubjectsAuthorized", "get"),
        (DOSSIERS, "/connectors/Profit_Subject_Attachments", "get"),
        ("Mutaties", "/connectors/FiElectronicInvoicePurchase", "post"),
        ("Mutaties", "/connectors/Profit_Creditor", "get"),
        ("Mutaties", "/connectors/Profit_Administrations", "get"),
        ("Organisaties en personen", "/connectors/KnSalesRelationOrg", "post"),
        ("Organisaties en personen", "/connectors/KnSalesRelationOrg", "put"),
        ("sb", "/authentication/getaccesstoken", "post"),
        ("sb", "/api/blob/{uuid}", "put"),
        ("sb", "/api/purchasejournalentry", "post"),
    ],
)
def test_every_endpoint_the_simulator_serves_is_in_the_official_spec(specs, spec_name, path, method):
    assert method in _path(specs[spec_name], path)


def test_metainfo_and_version_answer_in_the_documented_shape(specs, control):
    spec = specs[DOSSIERS]
    for path, spec_path in (("/metainfo", "/MetaInfo"), ("/profitversion", "/ProfitVersion"),
                            ("/metainfo/get/Profit_Creditor", "/Metainfo/{Type}/{Endpoint}")):  # fmt: skip
        response = control.request("GET", PROFIT + path, headers=_auth())
        assert response.status_code == 200
        assert_matches(response.json(), _ok_schema(_path(spec, spec_path)["get"]))


@pytest.mark.parametrize(
    ("spec_name", "connector"),
    [(DOSSIERS, "ProfitSubjectsAuthorized"), (DOSSIERS, "Profit_Subject_Attachments"),
     ("Mutaties", "Profit_Creditor"), ("Mutaties", "Profit_Administrations")],
)  # fmt: skip
def test_standard_get_connectors_have_the_documented_fields_and_types(specs, control, spec_name, connector):
    schema = _ok_schema(_path(specs[spec_name], f"/connectors/{connector}")["get"])
    response = control.request("GET", f"{PROFIT}/connectors/{connector}?orderbyfieldids=", headers=_auth())

    body = response.json()
    assert_matches(body, schema)
    documented = set(schema["properties"]["rows"]["items"]["properties"])
    assert body["rows"] and set(body["rows"][0]) == documented


def test_subject_connector_answers_in_the_documented_shape(specs, control):
    row = control.request(
        "GET", f"{PROFIT}/connectors/Profit_Subject_Attachments?orderbyfieldids=attachment_id", headers=_auth()
    ).json()["rows"][0]
    response = control.request(
        "GET", f"{PROFIT}/SubjectConnector?SubjectId={row['subject_id']}&FileId={row['file_id']}", headers=_auth()
    )

    assert_matches(response.json(), _ok_schema(_path(specs[DOSSIERS], "/SubjectConnector")["get"]))


def test_a_500_and_a_503_have_the_documented_bodies(specs, control):
    responses = specs[DOSSIERS]["components"]["responses"]
    failed = control.request("GET", f"{PROFIT}/connectors/Profit_Creditor?skip=2&take=-1", headers=_auth())
    control.request("POST", f"/_sim/environments/{DEMO.key}/settings", json={"maintenance_retry_after": 60})
    maintenance = control.request("GET", f"{PROFIT}/metainfo", headers=_auth())

    assert_matches(failed.json(), responses["500"]["content"]["application/json"]["schema"])
    assert set(failed.json()) == {"externalMessage", "errorNumber", "profitLogReference"}
    assert_matches(maintenance.json(), responses["503"]["content"]["application/json"]["schema"])
    assert maintenance.headers["Retry-After"] == "60"


def test_the_documented_update_connector_examples_are_accepted(specs, control):
    fi = _path(specs["Mutaties"], "/connectors/FiElectronicInvoicePurchase")["post"]
    example = fi["requestBody"]["content"]["application/json"]["examples"]["insert"]["value"]
    fields = example["FiElectronicInvoicePurchase"]["Element"]["Fields"]
    # The example's XML is a PNG; the simulator checks for UBL as Profit does, so give it a real one.
    fields = {**fields, "XML": base64.b64encode(supplier_ubl()).decode(), "UnId": 1}
    documented = set(specs["Mutaties"]["components"]["schemas"]["FiElectronicInvoicePurchase_POST"]["properties"]
                     ["FiElectronicInvoicePurchase"]["properties"]["Element"]["properties"]["Fields"]["properties"])  # fmt: skip
    assert set(fields) <= documented
    response = control.request(
        "POST", f"{PROFIT}/connectors/FiElectronicInvoicePurchase", headers=_auth(),
        json={"FiElectronicInvoicePurchase": {"Element": {"Fields": fields}}},
    )  # fmt: skip
    assert response.status_code == 201, response.text

    kn = _path(specs["Organisaties en personen"], "/connectors/KnSalesRelationOrg")["put"]
    blokkeren = kn["requestBody"]["content"]["application/json"]["examples"]["blokkeren"]["value"]
    blokkeren["KnSalesRelationOrg"]["Element"]["@DbId"] = "10004"
    response = control.request("PUT", f"{PROFIT}/connectors/KnSalesRelationOrg", headers=_auth(), json=blokkeren)
    assert response.status_code == 201, response.text
    documented_answer = kn["responses"]["201"]["content"]["application/json"]["examples"]["Response example"]["value"]
    assert set(response.json()["results"]["KnSalesRelationOrg"]) == set(
        documented_answer["results"]["KnSalesRelationOrg"]
    )


def test_the_sb_journal_entry_example_is_accepted_and_answered_as_documented(specs, control, simulator):
    operation = _path(specs["sb"], "/api/purchasejournalentry")["post"]
    example = dict(operation["requestBody"]["content"]["application/json"]["examples"]["Inkoopjournaalpost"]["value"])
    example.pop("Attachments")  # refers to a blob the example never uploaded
    required = specs["sb"]["components"]["schemas"]["updateconnector-purchasejournalentry-1.1-create_request"][
        "required"
    ]
    apptoken = ENVIRONMENTS[2].afas_token
    sb = f"/sb/demo/{ENVIRONMENTS[2].sb_environment}"
    token = control.request("POST", f"{sb}/authentication/getaccesstoken", json={"apptoken": apptoken}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}", "Accept-Version": "1",
               "Tracking-Identifier": str(uuid.uuid4())}  # fmt: skip

    response = control.request("POST", f"{sb}/api/purchasejournalentry", headers=headers, json=example)

    assert response.status_code == 200
    assert_matches(response.json(), _ok_schema(operation))
    for field in required:
        broken = {k: v for k, v in example.items() if k != field}
        refused = control.request("POST", f"{sb}/api/purchasejournalentry",
                                  headers={**headers, "Tracking-Identifier": str(uuid.uuid4())}, json=broken)  # fmt: skip
        assert refused.status_code == 400, field


# --- what the client sends, against the official request schemas -------------------------------------------------


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def assert_request_valid(spec: dict, value, schema: dict, where: str = "$") -> None:
    """Strict where AFAS is: every key documented (AFAS refuses unknown fields; "@" keys are the element's key, as
    in the documented examples), every required field present, types, lengths and base64 as documented."""
    schema = _resolve(spec, schema)
    assert _schema_type_ok(value, {**schema, "nullable": False}), f"{where}: {value!r} is not {schema.get('type')}"
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key in schema.get("required") or ():
            assert key in value, f"{where}: the schema requires {key!r}"
        for key, item in value.items():
            if key.startswith("@"):
                continue
            assert key in properties, f"{where}.{key}: not in the schema"
            assert_request_valid(spec, item, properties[key], f"{where}.{key}")
    if isinstance(value, str):
        if "maxLength" in schema:
            assert len(value) <= schema["maxLength"], f"{where}: longer than {schema['maxLength']}"
        if schema.get("format") == "byte":
            base64.b64decode(value, validate=True)


class _Capture(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport):
        self.inner, self.bodies = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if request.method in ("POST", "PUT"):
            self.bodies.append((request.method, request.url.path.rsplit("/", 1)[-1], json.loads(request.content)))
        return self.inner.handle_request(request)


def test_every_update_connector_body_the_client_builds_is_valid_against_the_official_schema(specs, simulator):
    from integrations.afas.profit import ProfitClient
    from integrations.simulators.transport import SimulatorTransport

    capture = _Capture(SimulatorTransport(simulator))
    with ProfitClient(
        participant=DEMO.participant, environment_type=DEMO.environment_type, token=DEMO.afas_token,
        base_url_template="http://sim/{participant}/{rest_host}/ProfitRestServices", transport=capture,
    ) as client:  # fmt: skip
        client.deliver_purchase_invoice(ubl=supplier_ubl(), filename="F-1.xml", pdf=b"%PDF-1.4", administration=1)
        client.set_debtor_econnect_id("10001", "0106:12345678")

    schemas = {
        ("POST", "FiElectronicInvoicePurchase"): ("Mutaties", "FiElectronicInvoicePurchase_POST"),
        ("PUT", "KnSalesRelationOrg"): ("Organisaties en personen", "KnSalesRelationOrg_PUT"),
    }
    assert {(method, connector) for method, connector, _ in capture.bodies} == set(schemas)
    for method, connector, body in capture.bodies:
        spec_name, schema_name = schemas[(method, connector)]
        spec = specs[spec_name]
        assert_request_valid(spec, body, spec["components"]["schemas"][schema_name], f"{method} {connector}")


def test_the_validator_refuses_what_the_schema_refuses(specs):
    spec = specs["Organisaties en personen"]
    schema = spec["components"]["schemas"]["KnSalesRelationOrg_PUT"]
    without_dbid = {"KnSalesRelationOrg": {"Element": {"@DbId": "1", "Fields": {"EnId": "0106:12345678"}}}}
    too_long = {"KnSalesRelationOrg": {"Element": {"@DbId": "1", "Fields": {"DbId": "1", "EnId": "x" * 51}}}}
    unknown = {"KnSalesRelationOrg": {"Element": {"@DbId": "1", "Fields": {"DbId": "1", "Peppol": "x"}}}}

    for body, problem in ((without_dbid, "requires 'DbId'"), (too_long, "longer than 50"), (unknown, "not in")):
        with pytest.raises(AssertionError, match=problem):
            assert_request_valid(spec, body, schema)


def test_the_documented_metainfo_example_reads_through_the_client(specs):
    from integrations.afas.profit import ProfitClient

    example = _path(specs[DOSSIERS], "/Metainfo/{Type}/{Endpoint}")["get"]["responses"]["200"]["content"][
        "application/json"
    ]["examples"]["Example Result"]["value"]
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=example))
    with ProfitClient(participant="12345", environment_type="production", token="<token/>", transport=transport) as c:
        assert c.connector_fields("get", "Profit_Administrations") == ("AdminId", "AdminNm", "AdminCd")
