"""The home dashboard's summary counts (issue 22): kept in the same transaction as every write, so
after any work through the services they equal a full recount of the base tables; a refused or
rolled-back write leaves them unchanged; ``doctor`` finds a difference and rebuilds it."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from crm_tui.domain.errors import CrmError
from crm_tui.services import complaints as cp
from crm_tui.services import customers as cs
from crm_tui.services import followups as fu
from crm_tui.services import grades as gs
from crm_tui.services import importing, reports, staff, surveys, system
from crm_tui.services.customers import PhoneInput
from crm_tui.services.customers.handovers import handover_in
from crm_tui.store.queries import summary as qsum
from tests.services.conftest import Crm

CARD = {"first_reception_date": "2026-11-23", "intent_level": "H", "source": "walk_in", "product": "SUV 2.0T",
        "budget": "20万", "first_reception_summary": "看了两款车"}
TICKET = {"channel": "phone", "ack_method": "phone", "category": "service/waiting", "severity": "normal",
          "description": "周六上午排队一小时无人接待", "demand": "希望道歉并改进"}
NAMES = "张伟 王芳 李娜 刘洋 陈静 杨磊 赵敏 黄勇 周杰 吴霞".split()
GIVEN = "明华强丽军平"
CATEGORIES = ("potential", "intentional", "signed", "historical")


def summary_right(crm: Crm) -> None:
    with crm.svc.store.read() as s:
        assert qsum.compare(s) == []
        assert qsum.missing_triggers(s) == []


def stored(crm: Crm) -> dict[str, Any]:
    with crm.svc.store.read() as s:
        return qsum.stored(s)


class Walk:
    """Random work through the services, remembering what it made."""

    def __init__(self, crm: Crm, seed: int, tmp: Path) -> None:
        self.crm, self.rnd, self.tmp = crm, random.Random(seed), tmp
        self.customers: list[int] = []
        self.cards: list[int] = []
        self.tickets: list[int] = []
        self.apps: list[int] = []
        self.closed: list[int] = []
        self.n = 0

    def a(self, role: str) -> Any:
        return self.crm.actor(role)

    def pick(self, xs: list[int]) -> int:
        return self.rnd.choice(xs)

    # -- steps ------------------------------------------------------------------------------------

    def create(self) -> None:
        self.n += 1
        raw = {"name": self.rnd.choice(NAMES) + self.rnd.choice(GIVEN), "category": self.rnd.choice(CATEGORIES),
               "owner": self.rnd.choice(["jingli", "jingli2"])}
        if self.rnd.random() < 0.4:
            raw["important"] = "yes"
            raw["staff_contacts"] = self.rnd.choice(["", "kezhang", "jingli2", "kezhang jingli2"])
        phone = f"139{self.rnd.randrange(10**8):08d}"
        self.customers.append(cs.create_customer(self.crm.svc, self.a("customer_manager"), "person", raw,
                                                 phones=[PhoneInput(phone)]).id)

    def import_(self) -> None:
        rows = [["客户名称", "手机", "负责人"]]
        for _ in range(self.rnd.randrange(1, 4)):
            self.n += 1
            rows.append([self.rnd.choice(NAMES) + self.rnd.choice(GIVEN), f"137{self.rnd.randrange(10**8):08d}",
                         self.rnd.choice(["jingli", "jingli2", "", "nobody"])])
        buf = io.StringIO()
        csv.writer(buf).writerows(rows)
        path = self.tmp / f"import{self.n}.csv"
        path.write_bytes(buf.getvalue().encode("gbk"))
        admin = self.a("admin")
        plan = importing.plan(self.crm.svc, admin, importing.read_file(path))
        importing.run(self.crm.svc, admin, plan, all_or_nothing=self.rnd.random() < 0.5)

    def update(self) -> None:
        cid = self.pick(self.customers)
        view = cs.get_customer(self.crm.svc, self.a("customer_manager"), cid)
        raw = {"category": self.rnd.choice(CATEGORIES), "important": self.rnd.choice(["yes", ""]),
               "staff_contacts": self.rnd.choice(["", "kezhang", "jingli2 kezhang"])}
        cs.update_customer(self.crm.svc, self.a("customer_manager"), cid, raw, expected_version=view.version)

    def card(self) -> None:
        self.cards.append(fu.create_card(self.crm.svc, self.a("customer_manager"), self.pick(self.customers),
                                         dict(CARD, source=self.rnd.choice(["walk_in", "phone"]))).id)

    def visit(self) -> None:
        level = self.rnd.choice(["A", "B", "C", "O", "F"])
        raw = {"method": "call", "content": "电话回访", "level": level}
        if level == "F" and self.rnd.random() < 0.8:
            raw["lost_reason"] = "买了竞品"
        fu.log_visit(self.crm.svc, self.a("customer_manager"), self.pick(self.cards), raw)

    def close(self) -> None:
        status, card = self.rnd.choice(["won", "lost", "void", "lost"]), self.pick(self.cards)
        fu.close_card(self.crm.svc, self.a("customer_manager"), card, status, self.rnd.choice(["预算不足", ""]))
        if status == "lost":  # a lost customer may come back (R-FU-1)
            self.closed.append(card)

    def reopen(self) -> None:
        if not self.closed:  # lose one first: only a lost customer comes back (R-FU-1)
            card = self.pick(self.cards)
            fu.close_card(self.crm.svc, self.a("customer_manager"), card, "lost", "预算不足")
            self.closed.append(card)
        fu.reopen_card(self.crm.svc, self.a("section_chief"), self.closed.pop(), "客户回来了", "B")

    def complaint(self) -> None:
        self.tickets.append(cp.file_complaint(self.crm.svc, self.a("front_desk"), self.pick(self.customers),
                                              TICKET).id)

    def complaint_step(self) -> None:
        t, chief, mgr = self.pick(self.tickets), self.a("section_chief"), self.a("customer_manager")
        self.rnd.choice([
            lambda: cp.assign(self.crm.svc, chief, t, "jingli"),
            lambda: cp.solve(self.crm.svc, mgr, t, "调取监控核实"),
            lambda: cp.feed_back(self.crm.svc, mgr, t, "已道歉", "临时离岗", "电话"),
            lambda: cp.return_visit(self.crm.svc, mgr, t, "电话回访", "客户认可", self.rnd.randint(1, 5)),
            lambda: cp.close(self.crm.svc, mgr, t, "制度未执行", "每周抽查"),
        ])()

    def survey(self) -> None:
        cp.add_feedback(self.crm.svc, self.a("customer_manager"), self.pick(self.customers), "survey", "满意",
                        self.rnd.randint(1, 5))

    def grade_step(self) -> None:
        if not self.apps or self.rnd.random() < 0.3:
            self.apps.append(gs.file_application(self.crm.svc, self.a("customer_manager"), self.pick(self.customers),
                                                 self.rnd.choice("ABCD"), "年度合作金额增长，信用评级提升"))
            return
        app = self.pick(self.apps)
        self.rnd.choice([
            lambda: gs.approve_chief(self.crm.svc, self.a("section_chief"), app, "同意"),
            lambda: gs.approve_deputy(self.crm.svc, self.a("deputy_manager"), app, "同意"),
            lambda: gs.apply_change(self.crm.svc, self.a("section_chief"), app),
            lambda: gs.reject_chief(self.crm.svc, self.a("section_chief"), app, "资料不全"),
        ])()

    def handover(self) -> None:
        a, b = self.rnd.sample(["jingli", "jingli2"], 2)
        cs.handover(self.crm.svc, self.a("deputy_manager"), a, b, None if self.rnd.random() < 0.6 else
                    self.rnd.sample(self.customers, min(2, len(self.customers))), "调岗")

    def erase(self) -> None:
        cs.erase_customer(self.crm.svc, self.a("deputy_manager"), self.pick(self.customers), "客户要求删除")

    def disable(self) -> None:
        admin = self.a("admin")
        if self.rnd.random() < 0.5:
            staff.disable_user(self.crm.svc, admin, "kezhang", handover_to=self.rnd.choice([None, "fujingli"]))
        else:
            staff.enable_user(self.crm.svc, admin, "kezhang")

    def clock(self) -> None:
        self.crm.clock.advance(days=self.rnd.choice([1, 2, 5, 30, 200]), hours=self.rnd.randrange(10))

    def rollback(self) -> None:
        """A write that fails inside its transaction: everything it did is rolled back."""
        with pytest.raises(RuntimeError):
            with self.crm.svc.write(self.a("deputy_manager")) as tx:
                src, dst = (self.a(r).staff_id for r in ("customer_manager", "customer_manager2"))
                handover_in(tx, src, dst, self.customers, None, from_staff="jingli", to_staff="jingli2", all_=True)
                raise RuntimeError("the write fails after the move")


STEPS = {"create": 6, "import_": 2, "update": 3, "card": 4, "visit": 5, "close": 3, "reopen": 2, "complaint": 2,
         "complaint_step": 4, "survey": 2, "grade_step": 3, "handover": 2, "erase": 1, "disable": 1, "clock": 2,
         "rollback": 1}


@pytest.mark.parametrize("seed", [1, 2])
def test_summary_equals_a_recount_after_every_step_of_random_work(crm: Crm, tmp_path: Path, seed: int) -> None:
    """Random work through the services (create, import, update, cards, visits, results, complaint
    and grade steps, surveys, handover, erase, disabling staff, the clock, a rolled-back write), with
    the refusals the rules make; after each step the summary equals a full recount, and the
    dashboard equals the one counted from the base tables."""
    walk = Walk(crm, seed, tmp_path)
    walk.create()
    names, weights = list(STEPS), list(STEPS.values())
    done: dict[str, int] = {}
    for i in range(150):
        step = walk.rnd.choices(names, weights)[0]
        if step in ("update", "card", "complaint", "survey", "grade_step", "erase") and not walk.customers \
                or step in ("visit", "close", "reopen") and not walk.cards \
                or step == "complaint_step" and not walk.tickets:
            step = "create"
        try:
            getattr(walk, step)()
            done[step] = done.get(step, 0) + 1
        except CrmError:
            done["refused"] = done.get("refused", 0) + 1  # refused: nothing written, and so nothing counted
        summary_right(crm)
        if i % 15 == 14:
            for role in ("deputy_manager", "customer_manager"):
                fast = reports.dashboard(crm.svc, crm.actor(role))
                orig = qsum.usable
                qsum.usable = lambda s: False  # type: ignore[assignment]
                try:
                    slow = reports.dashboard(crm.svc, crm.actor(role))
                finally:
                    qsum.usable = orig  # type: ignore[assignment]
                assert fast == slow
    # the walk reached the refusals and did every kind of step at least once
    assert done.get("refused", 0) > 0 and set(STEPS) <= set(done), sorted(set(STEPS) - set(done))


def test_refused_and_rolled_back_writes_leave_the_summary_unchanged(crm: Crm) -> None:
    mgr = crm.manager
    cids = [cs.create_customer(crm.svc, mgr, "person", {"name": n, "important": "yes"}).id for n in ("张三", "李四")]
    fu.create_card(crm.svc, mgr, cids[0], CARD)
    before = stored(crm)
    assert before["sum_customer_live"] and before["sum_card"] and before["sum_important"]
    with pytest.raises(RuntimeError):
        with crm.svc.write(crm.actor("deputy_manager")) as tx:
            handover_in(tx, mgr.staff_id, crm.actor("customer_manager2").staff_id, cids, None,
                        from_staff="jingli", to_staff="jingli2", all_=True)
            assert qsum.stored(tx.session) != before  # moved inside the transaction ...
            raise RuntimeError("fails before the commit")
    assert stored(crm) == before  # ... and back with the rollback
    with pytest.raises(CrmError):
        cs.create_customer(crm.svc, mgr, "person", {"name": ""})  # refused: no name
    with pytest.raises(CrmError):
        fu.close_card(crm.svc, mgr, 1, "lost", "")  # refused: a lost card needs its reason
    with pytest.raises(CrmError):
        cs.handover(crm.svc, mgr, "jingli", "jingli2", None, "x")  # refused: no permission
    assert stored(crm) == before
    summary_right(crm)


def test_survey_past_deadline_and_understaffed_counts_equal_the_row_queries(crm: Crm) -> None:
    """The clock-dependent counters sum stored counts per day: the same numbers as counting the rows,
    on any day."""
    from crm_tui.store.queries import customers_lists as ql
    from crm_tui.store.queries import surveys as qs

    mgr = crm.manager
    for i, cat in enumerate(CATEGORIES * 2):
        cid = cs.create_customer(crm.svc, mgr, "person", {"name": "客户" + "甲乙丙丁戊己庚辛"[i], "category": cat,
                                                          "important": "yes" if i % 2 else ""}).id
        crm.clock.advance(days=40)
        if i % 3 == 0:
            cp.add_feedback(crm.svc, mgr, cid, "survey", "满意", 4)
    staff.disable_user(crm.svc, crm.actor("admin"), "jingli2")
    c = surveys.cadence()
    with crm.svc.store.read() as s:
        for days in (0, 30, 100, 400, 800):
            day = crm.clock.now + timedelta(days=days)
            assert qs.due_count(s, day.date().isoformat(), c.default_days, c.by_grade, c.categories) == \
                qs.due_count_rows(s, day.date().isoformat(), c.default_days, c.by_grade, c.categories)
            now = day.isoformat(sep=" ", timespec="microseconds")
            assert ql.count_past_deadline(s, now) == ql.count_past_deadline_rows(s, now)
        assert ql.count_understaffed(s) > 0
        orig = qsum.usable
        qsum.usable = lambda s: False  # type: ignore[assignment]
        try:
            slow = ql.count_understaffed(s)
        finally:
            qsum.usable = orig  # type: ignore[assignment]
        assert ql.count_understaffed(s) == slow


def test_doctor_reports_a_summary_mismatch_and_rebuilds_it(crm: Crm) -> None:
    cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三"})
    with crm.svc.store.write() as s:
        s.execute(text("UPDATE sum_customer_live SET n = n + 5"))
        s.execute(text("DROP TRIGGER trg_sum_card_ins"))
    crm.svc.close()
    check = next(c for c in system.doctor(crm.place) if c.name == "home summary counts")
    assert not check.ok and "differ" in check.detail and "trg_sum_card_ins" in check.detail
    assert "crm-tui doctor --rebuild-summary" in check.detail
    check = next(c for c in system.doctor(crm.place, rebuild_summary=True) if c.name == "home summary counts")
    assert check.ok and "rebuilt" in check.detail
    check = next(c for c in system.doctor(crm.place) if c.name == "home summary counts")
    assert check.ok and check.detail == "match a recount of the records"


def test_migration_2201_fills_the_summary_from_existing_rows(crm: Crm) -> None:
    """Down to 2001 (no summary) and up again: the migration counts the rows already there."""
    from alembic import command

    from crm_tui.store import db, migrate

    mgr = crm.manager
    for i, name in enumerate(("张三", "李四", "王五")):
        cid = cs.create_customer(crm.svc, mgr, "person", {"name": name, "important": "yes" if i else "",
                                                          "category": CATEGORIES[i]}).id
        fu.create_card(crm.svc, mgr, cid, CARD)
        cp.add_feedback(crm.svc, mgr, cid, "survey", "满意", 5)
    want = stored(crm)
    crm.svc.close()
    engine = db.make_engine(crm.place.db_file, crm.key, pool="null")
    try:
        with engine.connect() as conn:
            # as store.migrate does: the audit tables' rebuild (2202) needs foreign keys off, outside a transaction
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
            with conn.begin():
                command.downgrade(migrate.alembic_config(conn), "2001")
                assert "sum_customer_live" not in {r[0] for r in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
                command.upgrade(migrate.alembic_config(conn), "head")
                assert qsum.stored(conn.connection.driver_connection) == want
                assert qsum.compare(conn.connection.driver_connection) == []
    finally:
        engine.dispose()
    assert all(want[t] for t in ("sum_customer_live", "sum_customer_new", "sum_card", "sum_survey", "sum_important"))


def test_bulk_generators_leave_a_right_summary(tmp_path: Path) -> None:
    """benchmarks/gen.py and gen_areas.py write in bulk, below the services: the triggers count their
    rows too, so the generated file's summary equals a recount with no rebuild step."""
    from tests.services.test_bench_gen import _gen

    gen = _gen()
    svc, _key = gen.create_db(tmp_path / "gen")
    try:
        gen.generate(svc, 400, seed=7, batch=200)
        gen.generate_areas(svc, 7, batch=200)
        with svc.store.read() as s:
            assert qsum.compare(s) == []
            assert sum(qsum.stored(s)["sum_customer_live"].values()) >= 390
            assert qsum.stored(s)["sum_card"]
    finally:
        svc.close()
