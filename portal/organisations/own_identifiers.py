"""The organisation's own Peppol identifiers on an environment, as a firm admin adds and removes them in the portal.

An identifier is typed in either notation (``0106:12345678`` or ``NL:KVK:12345678``), checked per scheme and stored
in its canonical ICD form. Adding one asks the Peppol directory at once where it is registered, and applies the
one-route rule: while receiving is on, an identifier registered at another access point, or receiving on another
environment, is refused (it would receive nothing here, or twice).
"""

from __future__ import annotations

from contextlib import nullcontext

from django.db import IntegrityError, transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from integrations.econnect.lookup import PeppolLookup
from integrations.http import RemoteError
from integrations.peppol.identifiers import IdentifierSyntaxError, check_identifier, parse_identifier
from portal.accounts.models import User
from portal.events.messages import Msg, set_explanation
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations import clients, routes
from portal.organisations.models import Environment, OwnPeppolIdentifier

MAX_IDENTIFIER_INPUT = 120  # the longest notation of the longest value a scheme allows, with room to spare
MAX_OWN_IDENTIFIERS = 10  # per environment: an organisation has a handful (KvK, OIN, VAT, GLN)


class IdentifierRefused(Exception):
    """The identifier cannot be added or removed; ``message`` says why, in the reader's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def own_identifier_add(
    *, environment: Environment, text: str, actor: User | None, lookup: PeppolLookup | None = None
) -> OwnPeppolIdentifier:
    """Check the identifier, ask the directory where it is registered, apply the one-route rule and store it.

    Raises ``IdentifierRefused`` with the reason; nothing is stored then. A directory that cannot be asked does not
    stop the adding while receiving is off (the check is noted and can be repeated), but does while it is on."""
    language = get_language() or "en"
    text = (text or "").strip()
    if not text:
        raise IdentifierRefused(_("Enter the Peppol identifier, e.g. 0106:12345678 or NL:KVK:12345678."))
    if len(text) > MAX_IDENTIFIER_INPUT:
        raise IdentifierRefused(_("A Peppol identifier is at most %(max)s characters.") % {"max": MAX_IDENTIFIER_INPUT})
    try:
        identifier = parse_identifier(text)
    except IdentifierSyntaxError as exc:
        raise IdentifierRefused(exc.message.in_language(language)) from exc
    check = check_identifier(identifier)
    if check.has_problem:
        raise IdentifierRefused(
            _("%(identifier)s is not valid: %(reason)s")
            % {"identifier": identifier.icd, "reason": check.reason.in_language(language)}
        )
    if len(identifier.value) > OwnPeppolIdentifier._meta.get_field("value").max_length:
        raise IdentifierRefused(_("The identifier's value is too long."))
    if environment.own_identifiers.filter(scheme=identifier.scheme, value=identifier.value).exists():
        raise IdentifierRefused(_("%(identifier)s is already on this environment.") % {"identifier": identifier.icd})
    if environment.own_identifiers.count() >= MAX_OWN_IDENTIFIERS:
        raise IdentifierRefused(
            _("An environment has at most %(max)s own identifiers; remove one first.") % {"max": MAX_OWN_IDENTIFIERS}
        )

    own = OwnPeppolIdentifier(environment=environment, scheme=identifier.scheme, value=identifier.value)
    try:
        with nullcontext(lookup) if lookup is not None else clients.peppol_lookup() as directory:
            found = directory.participants([identifier]).get(identifier)
    except RemoteError as exc:
        if environment.receiving_enabled:
            raise IdentifierRefused(
                _(
                    "Receiving is on, so the Peppol directory must confirm that %(identifier)s is not registered at "
                    "another access point, and it could not be asked (%(reason)s). Try again in a few minutes."
                )
                % {"identifier": identifier.icd, "reason": exc.message}
            ) from exc
        set_explanation(own, "registration_error", Msg("route.directory_unavailable", detail=exc.message))
    else:
        routes.apply_directory_answer(own, found)
    if environment.receiving_enabled:
        _refuse_second_route(environment, own)
        own.receive_active = True
    try:
        with transaction.atomic():
            own.save()
            event_record(
                environment=environment,
                actor=actor,
                kind=EventKind.OWN_IDENTIFIER_ADDED,
                message=Msg("environment.own_identifier_added", identifier=own.identifier),
                to_status=own.registration,
                data={"identifier": own.identifier, "registration": own.registration},
            )
    except IntegrityError as exc:  # added here, or switched on elsewhere, a moment ago
        raise IdentifierRefused(
            _("%(identifier)s was just added here or receives on another environment; look again.")
            % {"identifier": own.identifier}
        ) from exc
    return own


def _refuse_second_route(environment: Environment, own: OwnPeppolIdentifier) -> None:
    problems = routes.route_problems(environment, own)
    if problems:
        raise IdentifierRefused(
            _("Receiving is on here, so %(identifier)s cannot be added: %(problems)s")
            % {"identifier": own.identifier, "problems": " ".join(problems)}
        )


def own_identifier_remove(*, own: OwnPeppolIdentifier, actor: User | None) -> None:
    """Remove an own identifier. The last one stays while sending or receiving is on: they need it."""
    environment = own.environment
    with transaction.atomic():
        locked = Environment.objects.select_for_update().get(pk=environment.pk)
        if locked.own_identifiers.count() == 1 and (locked.sending_enabled or locked.receiving_enabled):
            raise IdentifierRefused(
                _(
                    "%(identifier)s is the environment's only own identifier, and sending or receiving is on: switch "
                    "them off first, or add the new identifier before removing this one."
                )
                % {"identifier": own.identifier}
            )
        deleted, _rows = OwnPeppolIdentifier.objects.filter(pk=own.pk).delete()
        if deleted:
            event_record(
                environment=locked,
                actor=actor,
                kind=EventKind.OWN_IDENTIFIER_REMOVED,
                message=Msg("environment.own_identifier_removed", identifier=own.identifier),
                data={"identifier": own.identifier},
            )
