"""The AFAS simulator: Profit REST (several environments in one server) and the Small Business endpoints.

URL shape (one server, many environments; the real hosts in comments):
  /{participant}/{rest|resttest|restaccept}/ProfitRestServices/...   https://{participant}.{rest_host}.afas.online/ProfitRestServices/...
  /sb/{domain}/{customer environment}/...                             https://{domain}.afasfocus.nl/{customer environment}/...
Path segments are matched case-insensitively, as Profit does. Control API under /_sim/ (see ``__init__``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from integrations.afas.simulator.common import MAX_QUERY_LENGTH, PROFIT, SB, empty_response
from integrations.afas.simulator.control import ControlApi
from integrations.afas.simulator.profit import ProfitEndpoints
from integrations.afas.simulator.small_business import SmallBusinessEndpoints
from integrations.afas.simulator.webhooks import ProfitWebhooks
from integrations.simulators.app import Request, Response, SimulatorApp
from integrations.simulators.state import StateStore


def _initial() -> dict[str, Any]:
    return {"environments": {}}


class AfasSimulator(ProfitEndpoints, SmallBusinessEndpoints, ControlApi, ProfitWebhooks, SimulatorApp):
    """Control API (JSON), besides the kit's ``GET /_sim/health``, ``POST /_sim/reset``, ``GET|POST|DELETE /_sim/faults``:

    - ``POST /_sim/seed``: load the demo world (idempotent).
    - ``POST /_sim/fixtures`` ``{"environments": [{participant, environment_type, edition, organisation: {name, kvk,
      vat?}, tokens: [{token, connectors: null|[names]}], debtors, creditors, administrations, rows: {connector: [..]},
      sb_ledger_accounts, sb_relations}]}``: add or replace environments.
    - ``GET /_sim/environments``: keys and counts.
    - ``POST /_sim/environments/{key}/settings`` ``{maintenance_retry_after: int|null, ip_blocked: bool,
      update_response_shape: default|results|bare|empty, profit_version}``.
    - ``POST /_sim/environments/{key}/rows/{connector}`` ``{"rows": [...]}``: append GetConnector rows.
    - ``POST /_sim/environments/{key}/{debtors|creditors}/{number}`` ``{field: value}``: change (or add) a debtor or
      creditor row as a person in Profit would; its ModifiedDate becomes now.
    - ``DELETE /_sim/environments/{key}/{debtors|creditors}/{number}``: delete it (it disappears from the
      GetConnector, as in Profit).
    - ``POST /_sim/environments/{key}/sales-invoices`` ``{debtor, lines: [{description, quantity, price, vat}], number?,
      issue_date?}``: issue a sales invoice as Profit does with issue method R: a dossier item with UBL and PDF.
    - ``GET /_sim/environments/{key}/delivered``: purchase invoices received via FiElectronicInvoicePurchase and SB
      journal entries, with the exact bytes (base64) and their SHA-256.
    - ``POST /_sim/environments/{key}/webhooks`` ``{url, password, subject_types?: [..] | null, description?}``: a
      Profit 8 dossier webhook (``webhooks.py``); ``GET /_sim/webhooks/events``; ``POST /_sim/webhooks/send`` runs
      the "Send webhooks" job now (the live server runs it every heartbeat).

    Fault operations: ``GET /connectors/<name>``, ``POST /connectors/<name>``, ``PUT /connectors/<name>``,
    ``GET /metainfo``, ``GET /metainfo/<get|update>/<name>``, ``GET /profitversion``, ``GET /SubjectConnector``,
    ``SB POST /authentication/getaccesstoken``, ``SB PUT /api/blob``, ``SB GET /api/blob``,
    ``SB POST /api/purchasejournalentry``.
    """

    name = "afas"

    def __init__(self, state_dir: Path | None = None):
        super().__init__()
        self.state = StateStore(state_dir, name="afas", initial=_initial)
        # Profit
        self.route("GET", PROFIT + r"/connectors/(?P<connector>[^/]+)", self.get_connector,
                   operation="GET /connectors/{connector}", ignore_case=True)  # fmt: skip
        for method in ("POST", "PUT"):
            self.route(method, PROFIT + r"/connectors/(?P<connector>[^/]+)", self.update_connector,
                       operation=f"{method} /connectors/{{connector}}", ignore_case=True)  # fmt: skip
        self.route("GET", PROFIT + r"/metainfo", self.metainfo, operation="GET /metainfo", ignore_case=True)
        self.route("GET", PROFIT + r"/metainfo/(?P<kind>get|update)/(?P<connector>[^/]+)", self.metainfo_connector,
                   operation="GET /metainfo/{kind}/{connector}", ignore_case=True)  # fmt: skip
        self.route("GET", PROFIT + r"/profitversion", self.profit_version, operation="GET /profitversion",
                   ignore_case=True)  # fmt: skip
        self.route("GET", PROFIT + r"/subjectconnector(?:/(?P<subject>\d+)/(?P<file>[^/]+))?", self.subject_connector,
                   operation="GET /SubjectConnector", ignore_case=True)  # fmt: skip
        # Small Business
        self.route("POST", SB + r"/authentication/getaccesstoken", self.sb_access_token,
                   operation="SB POST /authentication/getaccesstoken", ignore_case=True)  # fmt: skip
        self.route("PUT", SB + r"/api/blob/(?P<blob>[0-9a-fA-F-]{36})", self.sb_put_blob, operation="SB PUT /api/blob",
                   ignore_case=True)  # fmt: skip
        self.route("GET", SB + r"/api/blob/(?P<blob>[0-9a-fA-F-]{36})", self.sb_get_blob, operation="SB GET /api/blob",
                   ignore_case=True)  # fmt: skip
        self.route("GET", SB + r"/api/unknownrelation", self.sb_unknown_relations,
                   operation="SB GET /api/unknownrelation", ignore_case=True)  # fmt: skip
        self.route("POST", SB + r"/api/purchasejournalentry", self.sb_journal_entry,
                   operation="SB POST /api/purchasejournalentry", ignore_case=True)  # fmt: skip
        # control
        self.route("POST", r"/_sim/seed", self._sim_seed)
        self.route("POST", r"/_sim/fixtures", self._sim_fixtures)
        self.route("GET", r"/_sim/environments", self._sim_environments)
        self.route("POST", r"/_sim/environments/(?P<key>[^/]+)/settings", self._sim_settings)
        self.route("POST", r"/_sim/environments/(?P<key>[^/]+)/rows/(?P<connector>[^/]+)", self._sim_rows)
        self.route("POST", r"/_sim/environments/(?P<key>[^/]+)/(?P<kind>debtors|creditors)/(?P<number>[^/]+)",
                   self._sim_change_relation)  # fmt: skip
        self.route("DELETE", r"/_sim/environments/(?P<key>[^/]+)/(?P<kind>debtors|creditors)/(?P<number>[^/]+)",
                   self._sim_delete_relation)  # fmt: skip
        self.route("POST", r"/_sim/environments/(?P<key>[^/]+)/sales-invoices", self._sim_sales_invoice)
        self.route("GET", r"/_sim/environments/(?P<key>[^/]+)/delivered", self._sim_delivered)
        self.register_webhook_routes()
        self.route("DELETE", r"/_sim/environments/(?P<key>[^/]+)/delivered/purchase-invoices/(?P<entry>\d+)",
                   self._sim_remove_delivered)  # fmt: skip

    def reset(self) -> None:
        self.state.reset()

    @property
    def environments(self) -> dict[str, dict[str, Any]]:
        return self.state.data["environments"]

    def handle(self, request: Request) -> Response:
        # Profit's proxy refuses a query string over 2049 characters with 404, before anything else.
        if len(request.query_string) > MAX_QUERY_LENGTH and not request.path.startswith("/_sim/"):
            return empty_response(404)
        return super().handle(request)  # route handlers run under the state lock (SimulatorApp.handler_lock)
