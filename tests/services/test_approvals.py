

def test_r_sec_2_approvers_see_waiting_requests_on_their_home_list(crm: Crm) -> None:
    from crm_tui.services import home

    require_approvals(crm)
    chief, deputy = crm.actor("section_chief"), crm.actor("deputy_manager")
    approvals.request(crm.svc, chief, "customer.export", "报送")

    def waiting(actor) -> int:  # type: ignore[no-untyped-def]
        return sum(i.count for i in home.work_items(crm.svc, actor) if i.key == "approval.pending")

    assert waiting(deputy) == 1 and waiting(crm.actors["admin"]) == 1
    assert waiting(chief) == 0  # one's own request is not one's to decide
    assert waiting(crm.manager) == 0
