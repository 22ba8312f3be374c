"""Customer rights and watch lists (``customer ...``, ``customer consent ...``)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from crm_tui.cli.common import _out, _pad, _signed_in, app
from crm_tui.i18n import _


customer_app = typer.Typer(help="Customer rights (R-CUST-13): erasure, destruction past retention; consents (R-CUST-6), changes to tell (R-CUST-5), surveys due (R-CUST-15).", no_args_is_help=True)
app.add_typer(customer_app, name="customer")


@customer_app.command("erase")
def customer_erase(
    number: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (no names: the reason is kept).")],
    approval: Annotated[Optional[int], typer.Option("--approval", help="Id of the approved request (R-SEC-2).")] = None,
) -> None:
    """Erase one customer's personal data for good (ledgered: a restore does not bring it back)."""
    from crm_tui.services import erasure

    svc, actor = _signed_in()
    try:
        erasure.erase_by_number(svc, actor, number, reason, approval_id=approval)
    finally:
        svc.close()
    _out(_("Customer {number} erased.", number=number))


@customer_app.command("destroy-expired")
def customer_destroy_expired(
    approval: Annotated[Optional[int], typer.Option("--approval", help="Id of the approved request (customer.destroy_batch).")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Recorded with each erasure.")] = "retention period ended",
) -> None:
    """Destroy every archive past its retention period, as one approved batch."""
    from crm_tui.services import erasure

    svc, actor = _signed_in()
    try:
        numbers = erasure.destroy_past_retention(svc, actor, approval_id=approval, reason=reason)
    finally:
        svc.close()
    _out(_("{n} archives past their retention period destroyed.", n=len(numbers)))


# -- consents and telling customers of changes (R-CUST-5, R-CUST-6) -------------------------------

consent_app = typer.Typer(help="A customer's consents (R-CUST-6): list, add, withdraw.", no_args_is_help=True)
customer_app.add_typer(consent_app, name="consent")


@consent_app.command("list")
def consent_list(number: str) -> None:
    """The customer's consents: id, scope, state, day, how, purpose."""
    from crm_tui.services import consent, customers

    svc, actor = _signed_in()
    try:
        lines = consent.consent_lines(svc, actor, customers.customer_id_by_number(svc, actor, number))
    finally:
        svc.close()
    for line in lines:
        _out(f"{line.id:>6}  {line.label}")
    if not lines:
        _out(_("No consent recorded yet."))


@consent_app.command("add")
def consent_add(
    number: str,
    scope: Annotated[str, typer.Option("--scope", help="basic, sensitive (ID number, bank account) or marketing.")],
    purpose: Annotated[str, typer.Option("--purpose", help="The purpose told to the customer.")],
    method: Annotated[str, typer.Option("--method", help="How it was given: signed_form, verbal, electronic (or their names).")],
    given: Annotated[str, typer.Option("--given", help="Day it was given (YYYY-MM-DD; default today).")] = "",
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Record a consent the customer gave; after a sensitive one, an ID number can be entered."""
    from crm_tui.services import consent, customers

    from crm_tui.domain.errors import ValidationErrors

    svc, actor = _signed_in()
    try:
        cid = consent.add_consent(svc, actor, customers.customer_id_by_number(svc, actor, number), scope=scope,
                                  purpose=purpose, method=method, given=given, note=note)
    except ValidationErrors as e:  # each refusal under the option it belongs to
        typer.echo(_("Error: {message}", message=e.message), err=True)
        for err in e.errors:
            typer.echo(f"  --{err.field}: {err.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        svc.close()
    _out(_("Consent {id} recorded for {number}.", id=cid, number=number))


@consent_app.command("withdraw")
def consent_withdraw(
    consent_id: int,
    note: Annotated[str, typer.Option("--note", help="How the customer withdrew it.")] = "",
) -> None:
    """The customer withdraws a consent (ids: `customer consent list NUMBER`); without a sensitive
    consent the ID number and bank account are deleted from the archive."""
    from crm_tui.services import consent

    svc, actor = _signed_in()
    try:
        done = consent.withdraw_consent(svc, actor, consent_id, note=note)
    finally:
        svc.close()
    for line in done:
        _out(line)


@customer_app.command("to-tell")
def customer_to_tell() -> None:
    """Changes still to be told to customers (R-CUST-5), soonest deadline first: id, number, what, by when."""
    from crm_tui.services import consent

    svc, actor = _signed_in()
    try:
        rows = consent.inform_due(svc, actor, limit=500).rows
    finally:
        svc.close()
    for r in rows:
        _out(f"{r.item_id:>6}  {_pad(r.customer.number, 14)} {_pad(r.customer.name, 12)} {r.detail}")


@customer_app.command("told")
def customer_told(
    item_id: int,
    method: Annotated[str, typer.Option("--method", help="call, visit, letter, email, wechat (or their names).")],
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Record that the customer was told of the change ITEM_ID (from `customer to-tell`)."""
    from crm_tui.services import consent

    svc, actor = _signed_in()
    try:
        consent.record_told(svc, actor, item_id, method, note)
    finally:
        svc.close()
    _out(_("Recorded: the customer was told of the change."))


@customer_app.command("surveys-due")
def customer_surveys_due() -> None:
    """Customers due a satisfaction survey (R-CUST-15), the longest overdue first."""
    from crm_tui.services import surveys

    svc, actor = _signed_in()
    try:
        rows = surveys.due_list(svc, actor, limit=500).rows
    finally:
        svc.close()
    for r in rows:
        _out(f"{_pad(r.customer.number, 14)} {_pad(r.customer.name, 12)} {r.detail}")
# -- customer rules (issue 20: R-CUST-3, -7, -8, -10) --------------------------------------------

_WATCH_NAMES = {"phone-changes": "phone_changes", "shared-phones": "shared_phones", "shared-filing": "shared_filing",
                "contact-tasks": "contact_tasks", "few-contacts": "few_contacts", "owner-disabled": "owner_disabled"}


def _by_number(number: str, act) -> None:  # type: ignore[no-untyped-def]
    """Sign in, resolve the customer number, run ``act(svc, actor, customer_id)``."""
    from crm_tui.services import customers

    svc, actor = _signed_in()
    try:
        act(svc, actor, customers.customer_id_by_number(svc, actor, number))
    finally:
        svc.close()


@customer_app.command("false-info")
def customer_false_info(
    number: str,
    note: Annotated[str, typer.Option("--note", help="What false information was given (recorded).")],
) -> None:
    """R-CUST-3: mark the customer as having given false information; business with them stops."""
    from crm_tui.services import customers

    _by_number(number, lambda svc, actor, cid: customers.mark_false_information(svc, actor, cid, note))
    _out(_("Customer {number} marked as having given false information; business stopped.", number=number))


@customer_app.command("clear-false-info")
def customer_clear_false_info(
    number: str,
    note: Annotated[str, typer.Option("--note", help="Why the mark is lifted (recorded).")],
) -> None:
    """R-CUST-3: a supervisor lifts the false-information mark; business resumes."""
    from crm_tui.services import customers

    _by_number(number, lambda svc, actor, cid: customers.clear_false_information(svc, actor, cid, note))
    _out(_("False-information mark of customer {number} lifted; business resumed.", number=number))


@customer_app.command("stop-business")
def customer_stop_business(
    number: str,
    reason: Annotated[str, typer.Option("--reason", help="Why business is stopped (recorded).")],
) -> None:
    """R-CUST-3: stop business (no new follow-up card, visit or grade change; complaints accepted)."""
    from crm_tui.services import customer_rules

    _by_number(number, lambda svc, actor, cid: customer_rules.stop_business(svc, actor, cid, reason))
    _out(_("Business with customer {number} stopped.", number=number))


@customer_app.command("resume-business")
def customer_resume_business(
    number: str,
    reason: Annotated[str, typer.Option("--reason", help="Why business resumes (recorded).")],
) -> None:
    """R-CUST-3: a supervisor resumes business stopped with stop-business."""
    from crm_tui.services import customer_rules

    _by_number(number, lambda svc, actor, cid: customer_rules.resume_business(svc, actor, cid, reason))
    _out(_("Business with customer {number} resumed.", number=number))


@customer_app.command("inspect-phone")
def customer_inspect_phone(
    number: str,
    result: Annotated[str, typer.Option("--result", help="What the closer inspection found (recorded).")],
) -> None:
    """R-CUST-8: record the closer inspection of a customer whose phone changed twice in a month."""
    from crm_tui.services import customer_rules

    _by_number(number, lambda svc, actor, cid: customer_rules.record_phone_inspection(svc, actor, cid, result))
    _out(_("Inspection of customer {number} recorded; the flag is cleared.", number=number))


@customer_app.command("watch")
def customer_watch(
    name: Annotated[str, typer.Argument(help="phone-changes, shared-phones, shared-filing, contact-tasks, "
                                             "few-contacts or owner-disabled.")],
) -> None:
    """The watch lists of R-CUST-7, -8 and -10 (shared phones show the id to sign or file)."""
    from crm_tui.domain.errors import ValidationError
    from crm_tui.services import customer_forms

    if name not in _WATCH_NAMES:
        raise ValidationError("name", "Choose one of: {options}", options=", ".join(_WATCH_NAMES))
    svc, actor = _signed_in()
    try:
        page = customer_forms.watch_list(svc, actor, _WATCH_NAMES[name], limit=500)
    finally:
        svc.close()
    for row in page.rows:
        ident = f"#{row.phone_id}  " if row.phone_id is not None else ""
        _out(f"{ident}{_pad(row.customer.number, 16)}{_pad(row.customer.name, 14)}{row.detail}")
    _out(_("{n} listed.", n=len(page.rows)))


@customer_app.command("sign-shared-phone")
def customer_sign_shared_phone(
    phone_id: Annotated[int, typer.Argument(help="The #id from 'customer watch shared-phones'.")],
    note: Annotated[str, typer.Option("--note", help="Optional note.")] = "",
) -> None:
    """R-CUST-7: the section chief's or the deputy manager's signature on a shared phone."""
    from crm_tui.services import customers

    svc, actor = _signed_in()
    try:
        slot = customers.approve_shared_phone(svc, actor, phone_id, note)
    finally:
        svc.close()
    _out(_("Signed as section chief.") if slot == "chief" else _("Signed as deputy manager."))


@customer_app.command("file-shared-phone")
def customer_file_shared_phone(
    phone_id: Annotated[int, typer.Argument(help="The #id from 'customer watch shared-filing'.")],
    note: Annotated[str, typer.Option("--note", help="Optional filing note.")] = "",
) -> None:
    """R-CUST-7: internal control files (备案) a shared phone signed by both."""
    from crm_tui.services import customer_rules

    svc, actor = _signed_in()
    try:
        customer_rules.file_shared_phone(svc, actor, phone_id, note)
    finally:
        svc.close()
    _out(_("Filed with internal control."))
