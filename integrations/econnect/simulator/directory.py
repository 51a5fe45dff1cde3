"""The eConnect simulator's accounts, parties and Peppol directory, and the public Peppol lookup."""

from __future__ import annotations

from typing import Any

from integrations.econnect.simulator.common import ACCESS_POINT_URLS, DOCTYPE_IDS, NETWORKS, PROCESS_ID, canonical_party
from integrations.econnect.simulator.statuses import DEFAULT_INBOX_TEMPLATE
from integrations.peppol.document_types import DocumentType
from integrations.simulators.app import Request, Response


class DirectoryAndAccounts:
    """Accounts with their parties, the Peppol directory, and the public lookup (deliveryOption); part of
    ``EConnectSimulator``."""

    # --- accounts, parties, directory --------------------------------------------------------------------------
    def add_account(
        self,
        *,
        app_key: str,
        app_secret: str,
        network: str,
        parties: list[dict[str, str]],
        name: str = "",
        duplicates_visible: bool = False,
        inbox_template: str = "",
    ) -> dict[str, Any]:
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}")
        with self.state.lock:
            hosted = {
                party["id"]: key
                for key, account in self.data["accounts"].items()
                if account["network"] == network
                for party in account["parties"]
            }
            account_parties = []
            for party in parties:
                party_id = canonical_party(party["id"])
                if hosted.get(party_id, app_key) != app_key:
                    raise ValueError(f"{party_id} is already hosted by another account in the {network} network")
                account_parties.append(
                    {
                        "id": party_id,
                        "name": party.get("name", name),
                        "econnect_party_id": party.get("econnect_party_id") or self._next_id("XCNL"),
                    }
                )
            account = {
                "app_key": app_key,
                "app_secret": app_secret,
                "network": network,
                "name": name,
                "parties": account_parties,
                "duplicates_visible": duplicates_visible,
                "inbox_template": inbox_template or DEFAULT_INBOX_TEMPLATE,
            }
            self.data["accounts"][app_key] = account
            self.state.save()
            return account

    def register(
        self,
        network: str,
        party_id: str,
        *,
        access_point: str = "econnect",
        document_types: list[str] | None = None,
        behaviour: str = "deliver",
        name: str = "",
    ) -> dict[str, Any]:
        if network not in NETWORKS or access_point not in ACCESS_POINT_URLS:
            raise ValueError("unknown network or access point")
        if behaviour not in ("deliver", "fail", "reject"):
            raise ValueError("behaviour must be deliver, fail or reject")
        types = document_types or [t.value for t in DocumentType]
        if not set(types) <= set(DOCTYPE_IDS):
            raise ValueError(f"document types must be among {sorted(DOCTYPE_IDS)}")
        entry = {"access_point": access_point, "document_types": types, "behaviour": behaviour, "name": name}
        with self.state.lock:
            self.data["directory"][network][canonical_party(party_id)] = entry
            self.state.save()
        return entry

    def _hosting_account(self, network: str, party_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for account in self.data["accounts"].values():
            if account["network"] != network:
                continue
            for party in account["parties"]:
                if party_id in (party["id"], party["econnect_party_id"]):
                    return account, party
        return None

    def _directory_entry(self, network: str, party_id: str) -> dict[str, Any] | None:
        # A registration in the directory wins: a party eConnect hosts may still be registered at AFAS's access point
        # (the conflict the portal must notice before it switches receiving on).
        registered = self.data["directory"][network].get(party_id)
        if registered is not None:
            return registered
        if self._hosting_account(network, party_id) or self.psb_client_hosting(network, party_id):
            return {"access_point": "econnect", "document_types": list(DOCTYPE_IDS), "behaviour": "deliver"}
        return None

    # --- Peppol lookup -------------------------------------------------------------------------------------------
    def delivery_option(self, request: Request, prefix: str | None = None) -> Response:
        network = "test" if prefix else "production"
        party_ids = [value for key, value in request.query if key.lower() == "partyids"]
        wanted_types = {value for key, value in request.query if key.lower() == "documenttypeids" and value}
        family = (request.query_value("documentFamily") or "invoice").lower()
        if not party_ids:
            return Response.json({"code": "API400", "message": "partyIds is required."}, 400)
        options = []
        if family == "invoice":
            for raw in party_ids:
                party_id = canonical_party(raw)
                entry = self._directory_entry(network, party_id)
                if entry is None:
                    continue
                for document_type in entry["document_types"]:
                    doctype_id = DOCTYPE_IDS[document_type]
                    if wanted_types and doctype_id not in wanted_types:
                        continue
                    options.append(
                        {
                            "partyId": party_id,
                            "documentTypeId": doctype_id,
                            "processId": PROCESS_ID,
                            "protocol": "as4",
                            "url": ACCESS_POINT_URLS[entry["access_point"]],
                            "certificate": "MIIsimulated",
                        }
                    )
        return Response.json(options)
