"""Every message the portal stores for people to read later, by key: the one place its wording lives.

Keys are stored in the database, so a key is never renamed or removed once it has been released; its wording may be
improved (old rows are then shown in the new wording). ``portal.events.messages.Msg`` renders them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CATALOGUE = {
    # --- shared by sending and receiving ---------------------------------------------------------------------------
    "document.retry_requested": _("Retry requested."),
    "document.resolved_manually": _("Marked as resolved manually."),
    "document.gave_up": _("Gave up after %(attempts)s attempts; last error: %(detail)s"),
    "document.removed": _(
        "Document removed after the retention period (kept until %(kept_until)s); its SHA-256 %(sha256)s stays as "
        "proof of what it was."
    ),
    "remote.detail": _("%(service)s said: %(detail)s"),
    # --- sending ---------------------------------------------------------------------------------------------------
    "outgoing.collected": _("Collected from AFAS (dossier item %(subject_id)s)."),
    "outgoing.afas_sends_via_access_point": _("AFAS sends it via its own Peppol access point"),
    "outgoing.afas_sends_via_econnect_link": _("AFAS sends it via its eConnect link"),
    "outgoing.not_sent": _("Not sent by the portal: %(reason)s (issue method %(method)s on the debtor in AFAS)."),
    "outgoing.unreadable": _("The UBL from AFAS cannot be read: %(reason)s"),
    "outgoing.invalid": _("The invoice does not pass the Peppol rules (%(rules)s)."),
    "outgoing.invalid_structure": _(
        "The invoice is not a readable UBL invoice (%(rules)s). The official Peppol rules are not installed, so only "
        "its structure was checked."
    ),
    "outgoing.not_on_peppol": _(
        "Customer not on Peppol: no identifier of the customer can receive this document (%(explanation)s)."
    ),
    "outgoing.ready": _("Valid; will be sent to %(recipient)s."),
    "incoming.response_sent": _("Answered the supplier over eConnect: %(response)s (reason: %(reason)s)."),
    "outgoing.endpoint_set": _(
        "eConnect found the customer on Peppol as %(recipient)s, so the invoice's customer address (was "
        "%(before)s) now says %(recipient)s: eConnect PSB delivers to that address."
    ),
    "outgoing.ready_unchecked": _(
        "Structure checked, NOT checked against the official Peppol rules (none installed); will be sent to "
        "%(recipient)s."
    ),
    "outgoing.submitting": _("Submitting to eConnect (attempt %(attempt)s, reference %(reference)s)."),
    "outgoing.accepted": _("Accepted by eConnect as %(document_id)s."),
    "outgoing.unknown_recipient": _("eConnect does not know the recipient: %(detail)s"),
    "outgoing.refused": _("eConnect refused the document: %(detail)s"),
    "outgoing.keys_refused": _(
        "eConnect refused the connection keys: %(detail)s. Check the App Key and Secret of this environment."
    ),
    "outgoing.temporary_failure": _("Temporary failure (%(detail)s); next attempt at %(when)s."),
    "outgoing.econnect_reports": _("eConnect reports: %(status)s."),
    "outgoing.customer_response": _("The customer responded (Invoice Response %(status)s): %(text)s"),
    "webhook.connected": _("eConnect webhooks connected: eConnect posts to %(address)s."),
    "webhook.refused": _("An eConnect webhook delivery was refused: %(reason)s."),
    "webhook.refusal.signature_missing": _("it carries no signature"),
    "webhook.refusal.signature_wrong": _("its signature does not match the hook secret"),
    "webhook.refusal.stale": _("it was sent more than five minutes ago or in the future"),
    "webhook.refusal.unreadable": _("its content is not an eConnect event"),
    "webhook.refusal.too_large": _("it is too large for an event"),
    "webhook.outcome.no_document": _("The event names no document."),
    "webhook.outcome.received": _("Stored as purchase invoice %(pk)s."),
    "webhook.outcome.already_received": _("Already stored as purchase invoice %(pk)s."),
    "webhook.outcome.status_asked": _("The status of sales invoice %(pk)s was asked at eConnect."),
    "webhook.outcome.response_recorded": _("The customer's response is on sales invoice %(pk)s."),
    "webhook.outcome.not_sent_by_portal": _("The portal did not send eConnect document %(document_id)s."),
    "webhook.outcome.topic_unused": _("The portal does not use the topic %(topic)s."),
    "afas_webhook.set_up": _(
        "AFAS webhook set up: AFAS Profit posts dossier events to %(address)s (a new password was made)."
    ),
    "afas_webhook.refused": _("An AFAS webhook delivery was refused: %(reason)s."),
    "afas_webhook.refusal.signature_missing": _("it carries no signature"),
    "afas_webhook.refusal.signature_wrong": _("its signature does not match the webhook password"),
    "afas_webhook.refusal.stale": _("it is too old"),
    "afas_webhook.refusal.unreadable": _("its content is not an AFAS Profit event"),
    "afas_webhook.refusal.too_large": _("it is too large for an event"),
    "afas_webhook.outcome.collect_asked": _(
        "A dossier item changed (%(subject_id)s): sales invoices are collected now."
    ),
    "afas_webhook.outcome.sending_off": _("Sending is off for this environment: nothing collected."),
    "afas_webhook.test_received": _(
        "AFAS Profit's test message arrived: the webhook's address and password are right."
    ),
    "outgoing.stale": _(
        "No final status from eConnect after %(hours)s hours. Not resent automatically: check it at eConnect."
    ),
    "outgoing.econnect_status_unknown": _(
        'eConnect reports the status "%(status)s" (code %(code)s), which the portal does not know. It is shown as '
        "eConnect wrote it and flagged for support; the invoice stays submitted and is asked again."
    ),
    "outgoing.swept": _(
        "The submit did not finish (worker stopped); retrying, after checking whether eConnect already has it."
    ),
    "outgoing.test_created": _(
        "Test invoice %(number)s created, to be sent to the organisation itself (%(identifier)s)."
    ),
    "outgoing.test_returned": _(
        "Received back at %(when)s as eConnect document %(document_id)s: the connection works both ways. It was "
        "acknowledged at eConnect and not delivered to AFAS."
    ),
    "outgoing.no_afas_token": _(
        "The environment has no AFAS token: set it under Settings and connection keys, then retry this invoice."
    ),
    "outgoing.no_econnect_keys": _(
        "The environment has no eConnect connection keys: set the App Key and Secret under Settings and connection "
        "keys, then retry this invoice."
    ),
    "outgoing.no_sender": _(
        "The environment has no own Peppol identifier to send from: add the organisation's identifier (e.g. 0106 + "
        "KvK) on the environment page, then retry this invoice."
    ),
    "outgoing.credentials_unreadable": _(
        "The stored credentials of this environment cannot be decrypted (the encryption key changed): set them "
        "again under Settings and connection keys, then retry this invoice."
    ),
    "outgoing.directory_unavailable": _(
        "The customer's Peppol registration could not be looked up (%(detail)s); the portal tries again in a few "
        "minutes."
    ),
    "outgoing.directory_refused": _(
        "eConnect refused the Peppol lookup of the customer: %(detail)s. Check the connection keys of this "
        "environment, then retry this invoice."
    ),
    "outgoing.status_adopted": _("Status adopted from eConnect by the reconciliation: %(status)s."),
    "outgoing.recorded_from_econnect": _(
        "Recorded from eConnect's outbox by the reconciliation (%(document_id)s, eConnect status: %(status)s)."
    ),
    "outgoing.recipient.not_usable": _("not usable: %(reason)s"),
    "outgoing.recipient.invalid": _("invalid: %(reason)s"),
    "outgoing.recipient.no_customer": _("the invoice names no customer"),
    "outgoing.recipient.none": _("no identifiers"),
    "outgoing.recipient.entry": _("%(identifier)s: %(outcome)s"),
    "outgoing.recipient.can_receive": _("can receive this document type"),
    "outgoing.recipient.not_registered": _("not registered on Peppol"),
    "outgoing.recipient.other_types_only": _("on Peppol, but cannot receive this document type (%(type)s)"),
    # --- receiving -------------------------------------------------------------------------------------------------
    "incoming.received": _("Received from eConnect (%(size)s bytes)."),
    "incoming.received_flagged": _("Received from eConnect (%(size)s bytes); eConnect flags it as a duplicate."),
    "incoming.received_unreadable": _(
        "Received from eConnect, but eConnect's answer could not be read safely, twice: %(reason)s. The whole answer "
        "(%(size)s bytes) is kept as evidence; the document will be held for a person to decide and is not "
        "acknowledged at eConnect."
    ),
    "incoming.imported": _("Imported from eConnect by the reconciliation (%(size)s bytes)."),
    "incoming.received_pushed": _("Received from eConnect PSB, announced by webhook (%(size)s bytes)."),
    "incoming.imported_flagged": _(
        "Imported from eConnect by the reconciliation (%(size)s bytes); eConnect flags it as a duplicate."
    ),
    "incoming.held_unsafe": _("Held: refused as unsafe: %(reason)s The file is kept as received."),
    "incoming.held_unreadable": _("Held: cannot be read: %(reason)s The file is kept as received."),
    "incoming.held_duplicate": _("Held: %(verdict)s (matches %(original)s)."),
    "incoming.held_flag_disputed": _(
        "Held: eConnect flags it as a duplicate, but the portal finds no duplicate from this supplier. Check and mark "
        "it as original to deliver it."
    ),
    "incoming.held_test_unmatched": _(
        "Held: it carries the portal's test-invoice marker, but matches no test invoice sent from this organisation. "
        "It is not delivered to AFAS; check it, then deliver it or mark it resolved."
    ),
    "incoming.held_other_party": _(
        "Held: addressed to %(receiver)s, which is not one of this environment's own Peppol identifiers "
        "(%(own)s). It is not delivered to AFAS and not acknowledged at eConnect: check to whom it belongs."
    ),
    "incoming.backfill": _("The inbox is read again from %(since)s on."),
    "incoming.test_returned": _(
        "The organisation's own test invoice %(number)s came back: it is acknowledged at eConnect and never "
        "delivered to AFAS."
    ),
    "incoming.ready": _("Checked: no duplicate; ready to deliver to AFAS."),
    "incoming.delivering": _("Delivering to AFAS (attempt %(attempt)s)."),
    "incoming.delivered": _("Delivered to AFAS unchanged; acknowledging at eConnect."),
    "incoming.delivered_with_pdf": _("Delivered to AFAS unchanged with its PDF; acknowledging at eConnect."),
    "incoming.delivery_uncertain": _(
        "AFAS may or may not have received it (%(detail)s). Check AFAS, then deliver again or mark it resolved."
    ),
    "incoming.afas_refused": _("AFAS refused the invoice: %(detail)s"),
    "incoming.afas_unavailable": _("AFAS not available (%(detail)s); next attempt at %(when)s."),
    "incoming.acknowledge_failed": _("Acknowledging at eConnect failed: %(detail)s"),
    "incoming.acknowledged": _("Marked as processed at eConnect."),
    "incoming.acknowledged_again": _("Marked as processed at eConnect again by the reconciliation."),
    "incoming.sb_interrupted": _(
        "The delivery to AFAS Small Business was interrupted; retrying (the same tracking id cannot book it twice)."
    ),
    "incoming.interrupted": _(
        "The delivery to AFAS was interrupted; AFAS may or may not have it. Check AFAS, then deliver again or mark it "
        "resolved."
    ),
    "incoming.marked_original": _("Marked as original; delivering to AFAS."),
    "incoming.deliver_again": _("Deliver again, requested by a person."),
    "incoming.deliver_again_reconciliation": _("Not found in AFAS by the reconciliation: delivering it to AFAS again."),
    "incoming.confirmed_in_afas": _("Found in AFAS by a person; acknowledging at eConnect."),
    "incoming.sb_held": _("Held: %(detail)s Nothing was sent to AFAS Small Business; the document is kept."),
    "incoming.sb_not_delivered": _(
        "Not delivered: %(detail)s Nothing was sent to AFAS Small Business; the document is kept."
    ),
    "incoming.sb_booked": _(
        "Booked in AFAS Small Business as %(reference)s: %(lines)s journal lines totalling %(total)s, VAT broken down "
        "by the portal from the UBL%(adjustments)s; the UBL attached unchanged; acknowledging at eConnect."
    ),
    "incoming.sb_booked_with_pdf": _(
        "Booked in AFAS Small Business as %(reference)s: %(lines)s journal lines totalling %(total)s, VAT broken down "
        "by the portal from the UBL%(adjustments)s; the UBL and its PDF attached unchanged; acknowledging at eConnect."
    ),
    "incoming.no_afas_token": _(
        "The environment has no AFAS token: set it under Settings and connection keys, then deliver again."
    ),
    # --- environments, credentials, routes -------------------------------------------------------------------------
    "credential.afas_token": _("AFAS token"),
    "credential.econnect_app_key": _("eConnect App Key"),
    "credential.econnect_app_secret": _("eConnect Secret"),
    "credential.econnect_psb_client_id": _("eConnect PSB client id"),
    "credential.econnect_psb_client_secret": _("eConnect PSB client secret"),
    "environment.credential_replaced": _("%(credential)s replaced"),
    "environment.credential_cleared": _("%(credential)s cleared"),
    "environment.credentials_changed": _("Credentials changed: %(changes)s."),
    "environment.created": _("Environment created: AFAS participant %(participant)s (%(type)s, %(edition)s)."),
    "environment.settings_changed": _("Settings changed: %(changes)s."),
    "environment.setting_change": _("%(setting)s %(before)s → %(after)s"),
    "environment.empty_value": _("(empty)"),
    "setting.afas_participant_number": _("AFAS participant number"),
    "setting.afas_environment_type": _("Type"),
    "setting.afas_edition": _("AFAS edition"),
    "setting.poll_interval_seconds": _("Polling interval (seconds)"),
    "setting.afas_sb_domain": _("AFAS Small Business domain"),
    "setting.afas_sb_administration_id": _("Small Business administration id"),
    "setting.afas_sb_ledger_account_id": _("Small Business ledger account id"),
    "setting.afas_sb_relation_id": _("Small Business relation id"),
    "setting.afas_sb_environment": _("AFAS Small Business customer environment"),
    "setting.afas_sb_relation_type": _("Small Business relation type"),
    "setting.econnect_group_id": _("eConnect company id (GroupId)"),
    "setting.afas_sales_invoice_subject_type": _("AFAS dossier item type of sales invoices"),
    "setting.econnect_transport": _("eConnect transport"),
    "setting.econnect_psb_party_id": _("eConnect PSB party id"),
    "setting.econnect_psb_send_acknowledgement": _("Send an acknowledgement (AB) over PSB"),
    "setting.econnect_psb_remove_after_delivery": _("Remove received documents at eConnect once in AFAS"),
    "environment.sending_on": _("Sending switched on."),
    "environment.sending_off": _("Sending switched off."),
    "environment.receiving_on": _("Receiving switched on: %(identifiers)s now receive via eConnect here."),
    "environment.receiving_off": _("Receiving switched off."),
    "environment.connection_tested": _("Connection test: %(afas)s; %(econnect)s"),
    "environment.own_identifier_added": _("Own Peppol identifier %(identifier)s added."),
    "environment.own_identifier_removed": _("Own Peppol identifier %(identifier)s removed."),
    "organisation.created": _("Organisation %(name)s (KvK %(kvk)s) added."),
    "environment.imported": _("Created by the bulk import of %(file)s (row %(row)s)."),
    "connection.ok": _("%(service)s: OK. %(text)s"),
    "connection.failed": _("%(service)s: %(parts)s: %(text)s"),
    "connection.afas_profit_ok": _("Connected to AFAS environment %(environment)s (Profit %(version)s)."),
    "connection.afas_sb_ok": _("AFAS Small Business accepted the app token."),
    "connection.econnect_ok": _("eConnect accepted the connection keys."),
    "connection.econnect_psb_ok": _("eConnect PSB accepted the client id and secret for party %(party)s."),
    "connection.connectors_missing": _(
        "The token works, but its app connector lacks: %(connectors)s. Add them in AFAS (app connector)."
    ),
    "connection.problem.no_token": _("no token set"),
    "connection.problem.no_domain": _("no domain set"),
    "connection.problem.no_keys": _("no keys set"),
    "connection.problem.no_psb_keys": _("no PSB credentials"),
    "connection.problem.unreadable": _("credentials unreadable"),
    "connection.problem.connectors_missing": _("connectors missing"),
    "connection.problem.token_rejected": _("token rejected"),
    "connection.problem.credentials_rejected": _("credentials not accepted"),
    "connection.problem.access_denied": _("access denied"),
    "connection.problem.timeout": _("no answer in time"),
    "connection.problem.malformed": _("unreadable answer"),
    "connection.problem.unavailable": _("unavailable, try again later"),
    "connection.problem.refused": _("refused"),
    "connection.hint.no_token": _("No AFAS token is set: set it in the settings."),
    "connection.hint.no_domain": _("The AFAS Small Business domain is not set: set it in the settings."),
    "connection.hint.no_keys": _(
        "The eConnect connection keys (App Key and Secret) are not set: set them in the settings."
    ),
    "connection.hint.no_psb_keys": _(
        "The eConnect PSB client id, client secret and party id are not all set: set them in the settings."
    ),
    "connection.hint.unreadable": _(
        "The stored credentials cannot be decrypted (the encryption key changed): set them again."
    ),
    "route.not_registered": _("Peppol directory: %(identifier)s is not registered on Peppol."),
    "route.registered": _("Peppol directory: %(identifier)s is registered at %(where)s."),
    "route.elsewhere": _("Peppol directory: %(identifier)s is registered elsewhere: %(where)s."),
    "route.elsewhere_at": _("Peppol directory: %(identifier)s is registered elsewhere: %(where)s (%(endpoint)s)."),
    "route.conflict": _(
        "%(finding)s Receiving via eConnect is on, but suppliers' invoices for this identifier go to that access "
        "point: deregister it there, or switch receiving here off."
    ),
    "route.conflict_overridden": _(
        "%(finding)s Receiving via eConnect is on, but suppliers' invoices for this identifier go to that access "
        "point: deregister it there, or switch receiving here off. (Support allowed this deliberately.)"
    ),
    "route.override": _(
        "Route conflict overridden for %(identifier)s (registered at %(where)s): receiving via eConnect may be "
        "switched on."
    ),
    "route.override_cleared": _("Route override for %(identifier)s withdrawn."),
    "route.directory_unavailable": _("The Peppol directory could not be asked: %(detail)s"),
    # --- contacts --------------------------------------------------------------------------------------------------
    "contacts.sync_recovered": _("Debtors and creditors are read from AFAS again."),
    "contacts.sync_failed": _("Debtors and creditors could not be read from AFAS: %(detail)s"),
    "contacts.synced": _(
        "Contacts read from AFAS: debtors %(debtors_new)s new, %(debtors_changed)s changed, %(debtors_deleted)s "
        "deleted; creditors %(creditors_new)s new, %(creditors_changed)s changed, %(creditors_deleted)s deleted."
    ),
    "contacts.synced_all": _(
        "All contacts read from AFAS: debtors %(debtors_new)s new, %(debtors_changed)s changed, %(debtors_deleted)s "
        "deleted; creditors %(creditors_new)s new, %(creditors_changed)s changed, %(creditors_deleted)s deleted."
    ),
    "contacts.lookup_changed": _("Peppol lookup: was '%(before)s', now '%(after)s'. %(detail)s"),
    "contacts.identifier_written": _(
        "Peppol identifier %(identifier)s confirmed and written to AFAS as eConnect id '%(value)s' (was "
        "'%(previous)s')."
    ),
    "contacts.write_back_failed": _("The identifier could not be written to AFAS: %(detail)s"),
    "contacts.job_started": _("%(job)s started for %(total)s customers."),
    "contacts.job_cancelled": _("%(job)s cancelled after %(processed)s of %(total)s customers."),
    "contacts.job_finished": _("%(job)s finished: %(processed)s of %(total)s customers, %(failed)s failed."),
    "contacts.lookup_job_finished": _(
        "%(job)s finished: %(processed)s of %(total)s customers: %(reachable)s reachable, %(not_reachable)s not "
        "reachable, %(invalid)s with an invalid identifier, %(failed)s could not be asked."
    ),
    "contacts.job_stopped": _("%(job)s stopped: %(processed)s of %(total)s customers, %(failed)s failed. %(error)s"),
    "contacts.job_kept_failing": _(
        "%(service)s kept failing (%(errors)s times in a row): %(detail)s. What was done is kept; start again later "
        "to continue."
    ),
    "contacts.job_waiting": _("%(service)s is not answering (%(detail)s); trying again in %(seconds)s s."),
    "contacts.service_directory": _("The Peppol directory"),
    "contacts.service_afas": _("AFAS"),
    "lookup.reachable": _("Reachable as %(identifier)s."),
    "lookup.reachable_no_credit_notes": _("Reachable as %(identifier)s; it cannot receive credit notes via Peppol."),
    "lookup.only_credit_notes": _("%(identifier)s is on Peppol but can receive only credit notes."),
    "lookup.nothing": _("%(identifier)s is on Peppol but can receive neither invoices nor credit notes."),
    "lookup.not_on_peppol": _("None of %(identifiers)s is registered on Peppol."),
    "lookup.no_identifiers": _("AFAS holds no KvK number, OIN, VAT number or eConnect id (EnId) for this contact."),
    "lookup.identifier_problem": _("%(source)s '%(value)s': %(reason)s"),
    "lookup.source.econnect_id": _("eConnect id (EnId)"),
    "lookup.source.kvk": _("KvK number"),
    "lookup.source.oin": _("OIN"),
    "lookup.source.vat": _("VAT number"),
    "lookup.source.manual": _("Entered in the portal"),
    "lookup.directory_unavailable": _("The Peppol directory could not be asked: %(detail)s"),
    "lookup.identifiers_changed": _("Identifiers changed in AFAS (%(before)s → %(after)s); looked up again."),
    # --- reconciliation --------------------------------------------------------------------------------------------
    "reconciliation.missing_in_afas": _("Reconciliation: %(number)s was delivered to AFAS but AFAS does not list it."),
    "reconciliation.unseen_inbox": _(
        "Reconciliation: eConnect received %(number)s (%(document_id)s); the portal never saw it."
    ),
    "reconciliation.unseen_outbox": _(
        "Reconciliation: eConnect sent %(number)s (%(document_id)s); the portal does not know it."
    ),
    "reconciliation.outgoing_status": _("Reconciliation: the portal says %(portal)s, eConnect says %(econnect)s."),
    "reconciliation.incoming_status": _(
        "Reconciliation: acknowledged here, but eConnect still lists it as %(econnect)s."
    ),
    "reconciliation.unknown_status": _("unknown"),
    "reconciliation.outcome.delivered_again": _("Delivered to AFAS again (queued)."),
    "reconciliation.outcome.already_have": _("The portal already has this document."),
    "reconciliation.outcome.imported": _(
        "Imported into the portal as purchase invoice %(pk)s; it is checked and delivered like any other."
    ),
    "reconciliation.outcome.already_have_sales": _("The portal already has this document (sales invoice %(pk)s)."),
    "reconciliation.outcome.recorded": _("Recorded in the portal as sales invoice %(pk)s with eConnect's status."),
    "reconciliation.outcome.agree": _("The portal and eConnect agree now (%(status)s)."),
    "reconciliation.outcome.adopted": _("Status adopted from eConnect: %(status)s."),
    "reconciliation.outcome.acknowledged_again": _("Marked as processed at eConnect again."),
    "reconciliation.outcome.dismissed": _("Dismissed: no action needed."),
    "reconciliation.outcome.no_longer_found": _("No longer found by reconciliation run %(run)s."),
    "reconciliation.resolved": _("Reconciliation: no longer found (%(kind)s)."),
    "reconciliation.closed": _("Reconciliation finding closed (%(kind)s): %(outcome)s"),
    # --- the setup checklist ---------------------------------------------------------------------------------------
    "checklist.afas_token": _("AFAS token accepted"),
    "checklist.afas_connectors": _("AFAS set up: every connector, field and right the portal uses is there"),
    "checklist.afas_own_link": _("AFAS's own eConnect link does not receive for this environment"),
    "checklist.econnect_keys": _("eConnect connection keys accepted"),
    "checklist.econnect_psb_keys": _("eConnect PSB client id and secret accepted"),
    "checklist.own_identifier": _("Own Peppol identifier registered at eConnect, and nowhere else"),
    "checklist.sending": _("Sending switched on"),
    "checklist.receiving": _("Receiving switched on"),
    "checklist.round_trip": _("A test invoice made the round trip"),
    "checklist.open_settings": _("Open Settings and connection keys"),
    "checklist.test_connection": _("Test the connection"),
    "checklist.check_afas_setup": _("Check the AFAS setup"),
    "checklist.then_check_again": _("Fix them in AFAS, then check the AFAS setup again"),
    "checklist.confirm_afas_link": _("Confirm it is switched off"),
    "checklist.add_identifier": _("Add the identifier"),
    "checklist.check_directory": _("Check the directory now"),
    "checklist.check_again": _("Check the directory again"),
    "checklist.switch_sending_on": _("Switch sending on"),
    "checklist.switch_receiving_on": _("Switch receiving on"),
    "checklist.send_test_invoice": _("Send a test invoice"),
    "checklist.open_test_invoice": _("Open the test invoice"),
    "checklist.afas_token_missing": _(
        "No AFAS token is set. Create one for the portal's app connector in AFAS and enter it under Settings and connection keys."
    ),
    "checklist.sb_domain_missing": _(
        "The AFAS Small Business domain is not set: enter it under Settings and connection keys."
    ),
    "checklist.econnect_psb_keys_missing": _(
        "No eConnect PSB party id, client id and secret are set: enter what eConnect gave for this company under "
        "Settings and connection keys."
    ),
    "checklist.econnect_keys_missing": _(
        "No eConnect App Key and Secret are set: enter the keys eConnect gave for this company under Settings and connection keys."
    ),
    "checklist.refused": _(
        "%(service)s refuses it: %(detail)s Enter a new one under Settings and connection keys, then test the connection."
    ),
    "checklist.accepted_on": _("Accepted on %(when)s."),
    "checklist.not_tested": _("Set, but not tested yet: test the connection to see whether it is accepted."),
    "checklist.connectors_not_checked": _(
        'Not checked yet: "Check the AFAS setup" reads which connectors, fields and rights the token\'s app connector has.'
    ),
    "checklist.connectors_missing": _(
        "Missing in AFAS: %(connectors)s. The AFAS setup check says for each where to add it; then check again."
    ),
    "checklist.connectors_there": _("All there at the check of %(when)s."),
    "checklist.afas_own_link_todo": _(
        'If AFAS\'s built-in eConnect link (eVerbinding) also receives for this administration, every purchase invoice arrives in AFAS twice. The link is set up with the administration\'s "Bedrijfs-ID eVerbinding" (AFAS help: "E-factuur via eVerbinding inrichten"): clear it, or ask eConnect to stop delivering to AFAS, then confirm it here.'
    ),
    "checklist.afas_own_link_confirmed": _("Confirmed switched off on %(when)s."),
    "environment.afas_link_off": _(
        "Confirmed: AFAS's own eConnect link does not receive for this environment (the portal delivers purchase invoices)."
    ),
    # --- the AFAS setup check --------------------------------------------------------------------------------------
    "afas_setup.get_missing": _(
        "GetConnector %(connector)s is not in the token's app connector. In AFAS Profit: General > Management > App connectors > the portal's app connector > tab Connectors: add %(connector)s."
    ),
    "afas_setup.debtors_missing": _(
        'GetConnector %(connector)s is not there. In AFAS Profit: General > Management > GetConnectors: create %(connector)s on Debiteuren with the fields DebtorId, DebtorName, BcCo, CcNr, VaId, OINr, EnId, InPv, Email, Blocked and ModifiedDate (README "Setting up AFAS"), then add it to the portal\'s app connector.'
    ),
    "afas_setup.get_fields_missing": _(
        "GetConnector %(connector)s lacks the fields %(fields)s. In AFAS Profit: General > Management > GetConnectors > %(connector)s > Fields: add them (a standard connector: copy it and use the copy)."
    ),
    "afas_setup.update_missing": _(
        "UpdateConnector %(connector)s is not in the token's app connector: add it on the tab Connectors of the portal's app connector."
    ),
    "afas_setup.update_fields_missing": _(
        "UpdateConnector %(connector)s does not offer the fields %(fields)s that the portal writes: check the Profit version and the rights of the app connector's user group."
    ),
    "afas_setup.reconciliation_missing": _(
        "GetConnector %(connector)s is not there: the nightly reconciliation cannot compare with AFAS. Nothing else is affected."
    ),
    "afas_setup.subject_connector_missing": _(
        "Attachments cannot be downloaded: add the subject connector (%(connector)s) to the portal's app connector (tab Connectors)."
    ),
    "afas_setup.download_not_tried": _(
        "No sales invoice is in a dossier yet, so the attachment download (subject connector) could not be tried. Check again after the first invoice."
    ),
    "afas_setup.subject_type_unknown": _(
        "The dossier item type %(type)s set for sales invoices does not exist in this environment. Types seen: %(types)s."
    ),
    "afas_setup.no_debtors": _(
        "The debtor GetConnector returns no debtors: check its filter and the user group's rights."
    ),
    "afas_setup.no_debtor_ids": _(
        "None of the first %(count)s debtors has a Peppol id (Bedrijfs-ID eConnect), KvK number or OIN: the portal cannot address their invoices. Fill them in on the debtors in AFAS Profit."
    ),
    "afas_setup.debtors_send_themselves": _(
        '%(count)s debtors (%(debtors)s) have an issue method with which AFAS sends by itself (F: eVerbinding, C: AFAS\'s Peppol): the portal does not send their invoices. Switch them to "Factuur en UBL in dossier plaatsen" (R) to send through the portal.'
    ),
    "afas_setup.sb_relation_type": _(
        "The Small Business relation %(relation)s needs relation type %(expected)s: SB refuses a journal entry with the other one. Change it under Settings."
    ),
    "afas_setup.sb_not_purchase": _(
        'The Small Business relation is "%(name)s", which is not for purchases: choose "Diverse creditors" or a creditor under Settings.'
    ),
    "afas_setup.ok": _("AFAS setup checked: everything the portal reads and writes is there (%(warnings)s warnings)."),
    "afas_setup.problems": _("AFAS setup checked: %(count)s items missing in AFAS."),
    "afas_setup.failed": _("The AFAS setup could not be checked: %(detail)s"),
    "checklist.no_own_identifier": _(
        "The organisation has no own Peppol identifier on this environment: add it below (its KvK number as 0106:<KvK>, or its OIN or VAT number)."
    ),
    "checklist.registered_elsewhere": _(
        "%(identifier)s is registered at %(where)s: suppliers' invoices for it go there, not to eConnect. Have it deregistered there, then check the directory again."
    ),
    "checklist.not_looked_up": _("%(identifier)s has not been looked up in the Peppol directory yet."),
    "checklist.not_registered": _(
        "%(identifier)s is not registered on Peppol yet. Have eConnect register it for this company, then check the directory again."
    ),
    "checklist.registered_at_econnect": _("%(identifiers)s: registered at eConnect."),
    "checklist.blocked": _("Not yet possible: %(reasons)s"),
    "checklist.switched_off": _("Switched off: switch it on when the steps above are done."),
    "checklist.came_back": _("Test invoice %(number)s came back on %(when)s: the connection works both ways."),
    "checklist.came_back_on": _("A test invoice came back on %(when)s: the connection works both ways."),
    "checklist.no_test_invoice": _(
        "No test invoice has been sent yet: send one when sending works (it comes back when receiving is on, and is never booked)."
    ),
    "checklist.test_invoice_stopped": _("Test invoice %(number)s did not get through: %(reason)s"),
    "checklist.test_needs_receiving": _(
        "The test invoice was delivered; switch receiving on to see it come back (it is never booked in AFAS)."
    ),
    "checklist.test_on_its_way": _("Test invoice %(number)s is on its way or waiting to come back."),
    # --- plain joins, for messages made of parts ---------------------------------------------------------------------
    "text.plain": "%(text)s",
}

# The parts of the system that act on their own, as the timeline names them.
SYSTEM_ACTORS = {
    "portal": _("portal"),
    "sending": _("sending"),
    "collect": _("collect"),
    "prepare": _("prepare"),
    "submit": _("submit"),
    "status": _("status"),
    "sweeper": _("sweeper"),
    "test invoice": _("test invoice"),
    "receiving": _("receiving"),
    "fetch": _("fetch"),
    "process": _("process"),
    "duplicates": _("duplicates"),
    "deliver": _("deliver"),
    "acknowledge": _("acknowledge"),
    "route check": _("route check"),
    "contacts": _("contacts"),
    "contacts sync": _("contacts sync"),
    "contacts write-back": _("contacts write-back"),
    "Peppol lookup": _("Peppol lookup"),
    "reconciliation": _("reconciliation"),
    "retention": _("retention"),
    "import": _("import"),
    "webhook": _("webhook"),
}
