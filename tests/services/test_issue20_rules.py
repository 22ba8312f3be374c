"""Issue 20 (area/consent): account opening on a department head's approval (R-SEC-1), consents
added and withdrawn from an existing archive and the "customer informed" due list (R-CUST-5/6),
periodic satisfaction surveys (R-CUST-15), A/B cover in every area (R-SEC-7). Real SQLCipher files,
the injected clock."""

from __future__ import annotations

import pytest

from crm_tui.domain.errors import ValidationError
from crm_tui.services import staff
from tests.services.conftest import Crm


# -- R-SEC-1 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("approval", [None, "", "   "])
def test_r_sec_1_account_without_approver_is_refused(crm: Crm, approval: str | None) -> None:
    before = crm.count("staff"), crm.count("audit_log", "action = 'staff.create'")
    with pytest.raises(ValidationError) as e:
        staff.add_user(crm.svc, crm.actor("admin"), "xinren", ["front_desk"], "新人", approval)
    assert e.value.field == "approval"
    assert "department head" in e.value.msgid
    assert (crm.count("staff"), crm.count("audit_log", "action = 'staff.create'")) == before


def test_r_sec_1_the_administrator_cannot_approve_the_account_he_opens(crm: Crm) -> None:
    before = crm.count("staff")
    for me in ("admin", "管理员 2026-11-20"):
        with pytest.raises(ValidationError) as e:
            staff.add_user(crm.svc, crm.actor("admin"), "xinren", ["front_desk"], "新人", me)
        assert e.value.field == "approval"
    assert crm.count("staff") == before


def test_r_sec_1_account_opened_with_its_approver_recorded_and_audited(crm: Crm) -> None:
    sid, _otp = staff.add_user(crm.svc, crm.actor("admin"), "xinren", ["front_desk"], "新人", " 陈科长  2026-11-20 ")
    assert crm.count("staff", "id = :i AND approval_note = '陈科长 2026-11-20'", i=sid) == 1
    assert crm.count("audit_log", "action = 'staff.create' AND details LIKE '%陈科长%'") == 1
