"""The setup checklist of an environment: what a new environment still needs before invoices flow, step by step.

Each step is done, failed (something refused, with what it said) or not yet, and names the exact action and where to
take it. The checklist reads only what the portal already knows (the environment's fields, its own identifiers, its
latest test invoice), so the dashboard can show the progress of hundreds of environments without asking anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from portal.events.messages import Choice, Msg, When
from portal.organisations.models import Environment, OwnPeppolIdentifier, Registration
from portal.outgoing_invoices.models import OutgoingStatus


class StepState(StrEnum):
    DONE = "done"
    FAILED = "failed"
    TODO = "todo"
    NOT_NEEDED = "not_needed"


class Action(StrEnum):
    """Where on the environment page (or beyond) a step is taken."""

    SETTINGS = "settings"
    TEST_CONNECTION = "test_connection"
    AFAS_SETUP = "afas_setup"
    CONFIRM_AFAS_LINK = "confirm_afas_link"
    IDENTIFIERS = "identifiers"
    CHECK_DIRECTORY = "check_directory"
    SENDING = "sending"
    RECEIVING = "receiving"
    TEST_INVOICE = "test_invoice"
    OPEN_TEST_INVOICE = "open_test_invoice"
    AFAS = "afas"  # in AFAS itself
    ECONNECT = "econnect"  # at eConnect


@dataclass(frozen=True)
class Step:
    key: str
    state: StepState
    title: Msg
    detail: Msg | None = None
    action: Action | None = None
    action_label: Msg | None = None

    @property
    def open(self) -> bool:
        return self.state in (StepState.TODO, StepState.FAILED)


class TestInvoice(Protocol):
    pk: int
    invoice_number: str
    status: str
    returned_at: object

    @property
    def last_error_text(self) -> str: ...


@dataclass(frozen=True)
class Checklist:
    steps: tuple[Step, ...]

    @property
    def done(self) -> int:
        return sum(step.state in (StepState.DONE, StepState.NOT_NEEDED) for step in self.steps)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def complete(self) -> bool:
        return self.done == self.total

    @property
    def failed(self) -> bool:
        return any(step.state is StepState.FAILED for step in self.steps)

    @property
    def next_step(self) -> Step | None:
        """The first failed step, else the first not taken yet."""
        return next((s for s in self.steps if s.state is StepState.FAILED), None) or next(
            (s for s in self.steps if s.state is StepState.TODO), None
        )


TEST_INVOICE_STOPPED = (
    OutgoingStatus.NEEDS_ATTENTION,
    OutgoingStatus.FAILED,
    OutgoingStatus.REJECTED,
    OutgoingStatus.STALE,
    OutgoingStatus.RESOLVED_MANUALLY,
    OutgoingStatus.NOT_SENT,
)
# An own identifier the directory has not confirmed yet: what the step says, where it is taken, and its button.
NOT_CONFIRMED = {
    Registration.NOT_CHECKED: ("checklist.not_looked_up", Action.CHECK_DIRECTORY, "checklist.check_directory"),
    Registration.NOT_REGISTERED: ("checklist.not_registered", Action.ECONNECT, "checklist.check_again"),
}


def environment_checklist(
    environment: Environment,
    *,
    identifiers: Sequence[OwnPeppolIdentifier],
    latest_test: TestInvoice | None = None,
    sending_blockers: Sequence[str] = (),
    receiving_blockers: Sequence[str] = (),
) -> Checklist:
    """The eight steps. ``latest_test`` and the blockers add detail where the caller has them (the environment
    page); without them (the dashboard) the steps are judged from the environment's own fields."""
    return Checklist(
        (
            _afas_token(environment),
            _afas_connectors(environment),
            _afas_own_link(environment),
            _econnect_keys(environment),
            _own_identifier(identifiers),
            _switch(
                "sending",
                environment.sending_enabled,
                Msg("checklist.sending"),
                sending_blockers,
                Action.SENDING,
                Msg("checklist.switch_sending_on"),
            ),
            _switch(
                "receiving",
                environment.receiving_enabled,
                Msg("checklist.receiving"),
                receiving_blockers,
                Action.RECEIVING,
                Msg("checklist.switch_receiving_on"),
            ),
            _round_trip(environment, latest_test),
        )
    )


def _afas_token(environment: Environment) -> Step:
    missing = None
    if not environment.has_afas_token:
        missing = Msg("checklist.afas_token_missing")
    elif environment.afas_edition == Environment.Edition.SMALL_BUSINESS and not environment.afas_sb_domain:
        missing = Msg("checklist.sb_domain_missing")
    return _credential_step(
        "afas_token",
        Msg("checklist.afas_token"),
        missing=missing,
        service="AFAS",
        failing_since=environment.afas_failing_since,
        failure=environment.afas_failure,
        accepted=environment.afas_last_success_at,
        set_at=environment.afas_token_set_at,
    )


def _econnect_keys(environment: Environment) -> Step:
    psb = "_psb" if environment.uses_psb else ""
    return _credential_step(
        "econnect_keys",
        Msg(f"checklist.econnect{psb}_keys"),
        missing=None if environment.has_econnect_keys else Msg(f"checklist.econnect{psb}_keys_missing"),
        service="eConnect",
        failing_since=environment.econnect_failing_since,
        failure=environment.econnect_failure,
        accepted=environment.econnect_last_success_at,
        set_at=environment.econnect_psb_keys_set_at if environment.uses_psb else environment.econnect_keys_set_at,
    )


def _credential_step(
    key: str, title: Msg, *, missing: Msg | None, service: str, failing_since, failure: str, accepted, set_at
) -> Step:
    """A credential: not set yet, refused (with what the service said), accepted since it was set, or untested."""
    if missing is not None:
        return Step(key, StepState.TODO, title, missing, Action.SETTINGS, Msg("checklist.open_settings"))
    if failing_since is not None:
        detail = Msg("checklist.refused", service=service, detail=failure)
        return Step(key, StepState.FAILED, title, detail, Action.SETTINGS, Msg("checklist.open_settings"))
    if accepted is not None and accepted >= set_at:
        return Step(key, StepState.DONE, title, Msg("checklist.accepted_on", when=When(accepted)))
    return Step(
        key,
        StepState.TODO,
        title,
        Msg("checklist.not_tested"),
        Action.TEST_CONNECTION,
        Msg("checklist.test_connection"),
    )


def _afas_connectors(environment: Environment) -> Step:
    """The AFAS setup: checked by "AFAS setup" (portal.organisations.afas_setup), or for its connectors by the
    connection test."""
    title = Msg("checklist.afas_connectors")
    checked = environment.afas_setup_checked_at
    if checked is None or (environment.afas_token_set_at and checked < environment.afas_token_set_at):
        return Step(
            "afas_connectors",
            StepState.TODO,
            title,
            Msg("checklist.connectors_not_checked"),
            Action.AFAS_SETUP,
            Msg("checklist.check_afas_setup"),
        )
    if environment.afas_setup_missing:
        detail = Msg("checklist.connectors_missing", connectors=", ".join(environment.afas_setup_missing))
        return Step(
            "afas_connectors", StepState.FAILED, title, detail, Action.AFAS_SETUP, Msg("checklist.then_check_again")
        )
    return Step("afas_connectors", StepState.DONE, title, Msg("checklist.connectors_there", when=When(checked)))


def _afas_own_link(environment: Environment) -> Step:
    """AFAS's own eConnect link must not receive as well, or every purchase invoice arrives twice; nothing the portal
    can ask tells, so a person confirms it."""
    title = Msg("checklist.afas_own_link")
    confirmed = environment.afas_own_econnect_link_off_at
    if confirmed is not None:
        return Step(
            "afas_own_link", StepState.DONE, title, Msg("checklist.afas_own_link_confirmed", when=When(confirmed))
        )
    return Step(
        "afas_own_link",
        StepState.TODO,
        title,
        Msg("checklist.afas_own_link_todo"),
        Action.CONFIRM_AFAS_LINK,
        Msg("checklist.confirm_afas_link"),
    )


def _own_identifier(identifiers: Sequence[OwnPeppolIdentifier]) -> Step:
    title = Msg("checklist.own_identifier")
    if not identifiers:
        return Step(
            "own_identifier",
            StepState.TODO,
            title,
            Msg("checklist.no_own_identifier"),
            Action.IDENTIFIERS,
            Msg("checklist.add_identifier"),
        )
    for own in identifiers:
        if own.blocks_receiving:
            detail = Msg(
                "checklist.registered_elsewhere",
                identifier=own.identifier,
                where=Choice(Registration, own.registration),
            )
            return Step("own_identifier", StepState.FAILED, title, detail, Action.CHECK_DIRECTORY,
                        Msg("checklist.check_again"))  # fmt: skip
    for own in identifiers:
        if own.registration in NOT_CONFIRMED:
            detail, action, label = NOT_CONFIRMED[own.registration]
            return Step("own_identifier", StepState.TODO, title, Msg(detail, identifier=own.identifier), action,
                        Msg(label))  # fmt: skip
    names = ", ".join(own.identifier for own in identifiers)
    return Step("own_identifier", StepState.DONE, title, Msg("checklist.registered_at_econnect", identifiers=names))


def _switch(key: str, enabled: bool, title: Msg, blockers: Sequence[str], action: Action, action_label: Msg) -> Step:
    if enabled:
        return Step(key, StepState.DONE, title)
    detail = Msg("checklist.blocked", reasons=" ".join(blockers)) if blockers else Msg("checklist.switched_off")
    return Step(key, StepState.TODO, title, detail, action, action_label)


def _round_trip(environment: Environment, latest: TestInvoice | None) -> Step:
    title = Msg("checklist.round_trip")
    if latest is not None and latest.returned_at is not None:
        return Step("round_trip", StepState.DONE, title, Msg("checklist.came_back", number=latest.invoice_number,
                                                             when=When(latest.returned_at)))  # fmt: skip
    if latest is None and environment.test_round_trip_at is not None:
        return Step("round_trip", StepState.DONE, title, Msg("checklist.came_back_on",
                                                             when=When(environment.test_round_trip_at)))  # fmt: skip
    if latest is None:
        return Step("round_trip", StepState.TODO, title, Msg("checklist.no_test_invoice"), Action.TEST_INVOICE,
                    Msg("checklist.send_test_invoice"))  # fmt: skip
    if latest.status in TEST_INVOICE_STOPPED:
        detail = Msg(
            "checklist.test_invoice_stopped", number=latest.invoice_number, reason=latest.last_error_text or "-"
        )
        return Step("round_trip", StepState.FAILED, title, detail, Action.OPEN_TEST_INVOICE,
                    Msg("checklist.open_test_invoice"))  # fmt: skip
    if latest.status == OutgoingStatus.DELIVERED and not environment.receiving_enabled:
        return Step("round_trip", StepState.TODO, title, Msg("checklist.test_needs_receiving"), Action.RECEIVING,
                    Msg("checklist.switch_receiving_on"))  # fmt: skip
    return Step("round_trip", StepState.TODO, title, Msg("checklist.test_on_its_way", number=latest.invoice_number),
                Action.OPEN_TEST_INVOICE, Msg("checklist.open_test_invoice"))  # fmt: skip
