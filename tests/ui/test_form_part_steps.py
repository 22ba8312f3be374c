"""Issue 18 item 2: the step dialogs on ui/parts/form.FormPart. What the part gained for them, each
with a refusal shown under the right field (the field marked and focused) and nothing written:

- a form's own widget listed among the fields (the visit form's next-date line);
- an error line with classes of its own that always keeps its place (the holiday day);
- a message line of the form's own id, or none;
- ``show_refusal``: one field's error, several, or a refusal that names no field;
- a dialog whose fields come from the step (the complaint steps), against the real service."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from crm_tui.domain.errors import Conflict, CrmError, ValidationError, ValidationErrors
from crm_tui.services import complaints as cp
from crm_tui.demo import DEMO_PASSWORD
from crm_tui.services import customers as cs
from crm_tui.ui.base import ENTER_BINDING, BaseModal
from crm_tui.ui.parts.form import Field, FormPart
from tests.ui.conftest import dialog_host, open_dialog, settle, staff_actor, type_text

SIZE = (100, 30)


def _text(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Static).render())


class _Probe(FormPart, BaseModal[dict | None]):
    """Two fields with a preview line between them; ``refuse`` says what the "service" answers."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), ENTER_BINDING]
    FORM_MESSAGE = "#probe-message"
    FIELD_ID = staticmethod(lambda name: f"p-{name}")

    def __init__(self, refuse: CrmError | None, error_classes: str = "field-error",
                 message: str | None = "#probe-message") -> None:
        super().__init__()
        self.refuse = refuse
        self.error_classes = error_classes
        self.FORM_MESSAGE = message
        self.written: list[dict] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield from self.compose_fields([
                Field("first", "First", error=True, enter="next", id="p-first",
                      error_classes=self.error_classes),
                Static("preview", id="p-preview", classes="readonly"),
                Field("second", "Second", error=True, enter="save", id="p-second",
                      error_classes=self.error_classes),
            ])
            yield Static("", id="probe-message", classes="message error")

    def on_mount(self) -> None:
        self.focus_first_field()

    def action_save(self) -> None:
        self.clear_errors()
        try:
            if self.refuse is not None:
                raise self.refuse
        except CrmError as e:
            self.show_refusal(e)
            return
        self.written.append(self.form_values())
        self.dismiss(self.form_values())


async def test_a_widget_listed_among_the_fields_stands_there_and_is_no_field(en) -> None:  # type: ignore[no-untyped-def]
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        form = _Probe(ValidationError("second", "Too long"))
        await open_dialog(pilot, form)
        ids = [w.id for w in form.query("#p-first, #p-preview, #p-second")]
        assert ids == ["p-first", "p-preview", "p-second"]
        assert [f.name for f in form.fields] == ["first", "second"]
        await type_text(pilot, "a")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert form.form_values() == {"first": "a", "second": ""}
        assert "Too long" in _text(form, "#p-second-error")  # one field's refusal: under it
        assert _text(form, "#p-first-error") == ""
        assert form.query_one("#p-second").has_class("-invalid")
        assert form.focused is form.query_one("#p-second", Input)
        assert "Second: Too long" in _text(form, "#probe-message")
        assert _text(form, "#p-preview") == "preview"
        assert app.results == [] and form.written == []


async def test_several_refusals_each_under_its_field_focus_on_the_first(en) -> None:  # type: ignore[no-untyped-def]
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        form = _Probe(ValidationErrors([ValidationError("second", "Say more"), ValidationError("first", "Empty")]))
        await open_dialog(pilot, form)
        form.query_one("#p-second", Input).focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Empty" in _text(form, "#p-first-error") and "Say more" in _text(form, "#p-second-error")
        assert form.focused is form.query_one("#p-first", Input)  # the first on the form, not in the refusal
        assert app.results == [] and form.written == []


async def test_a_refusal_naming_no_field_goes_to_the_message_line_and_clears_the_fields(en) -> None:  # type: ignore[no-untyped-def]
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        form = _Probe(ValidationError("first", "Empty"))
        await open_dialog(pilot, form)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Empty" in _text(form, "#p-first-error")
        form.refuse = Conflict("Someone else changed it [b]first[/b]")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert _text(form, "#p-first-error") == ""
        assert not form.query_one("#p-first").has_class("-invalid")
        assert _text(form, "#probe-message") == "Someone else changed it [b]first[/b]"  # plain text, no markup
        assert app.results == [] and form.written == []
        form.refuse = None
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.results == [{"first": "", "second": ""}]


async def test_an_error_line_styled_as_a_message_keeps_its_place_and_is_emptied(en) -> None:  # type: ignore[no-untyped-def]
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        form = _Probe(ValidationErrors([ValidationError("first", "Not a date")]), error_classes="message error",
                      message=None)
        await open_dialog(pilot, form)
        box = form.query_one("#p-first-error", Static)
        assert box.has_class("message") and not box.has_class("field-error")
        assert box.display and box.region.height == 1  # there before any refusal: the dialog does not jump
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Not a date" in _text(form, "#p-first-error")
        assert _text(form, "#probe-message") == ""  # no message line asked for: left alone
        assert form.focused is form.query_one("#p-first", Input)
        form.refuse = ValidationErrors([ValidationError("second", "Too long")])
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert _text(form, "#p-first-error") == ""  # the old reason went, though no field-error style clears it
        assert "Too long" in _text(form, "#p-second-error")
        assert app.results == [] and form.written == []


async def test_step_form_fields_from_the_step_refused_by_the_service_write_nothing(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """The survey step: a score out of range is refused under the score, nothing is recorded."""
    from crm_tui.ui.screens.complaints import StepForm

    svc = ui_services
    jingli = staff_actor(svc, "jingli")
    cid = cs.create_customer(svc, jingli, "person", {"name": "欧阳青"}).id
    before = len(cp.list_feedback(svc, jingli, cid))
    fields = (("score", "Satisfaction 1-5 *", "score"), ("text", "Comments", "text"))
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, StepForm("Survey", fields, lambda v: cp.add_feedback(
            svc, jingli, cid, "survey", v["text"], v["score"])))
        form = app.screen
        assert form.focused is form.query_one("#step-score", Input)
        assert [type(w).__name__ for w in form.query("#step-box > *")][:3] == ["Label", "Label", "Input"]
        await type_text(pilot, "9")
        await pilot.press("enter")  # moves on to the comments
        await type_text(pilot, "好")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _text(form, "#step-score-error") != ""
        assert form.query_one("#step-score").has_class("-invalid")
        assert form.focused is form.query_one("#step-score", Input)
        assert "Satisfaction 1-5" in _text(form, "#step-message")
        assert app.results == []
        assert len(cp.list_feedback(svc, jingli, cid)) == before
        form.query_one("#step-score", Input).value = "4"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.results == [True]
    assert len(cp.list_feedback(svc, jingli, cid)) == before + 1


def test_labels_are_plain_labels() -> None:
    """The part's label above a stacked field is a Label (ui/base.field_label finds it)."""
    from crm_tui.ui.parts.form import compose_fields

    widgets = list(compose_fields([Field("a", "A", error=True, error_classes="message error")]))
    assert isinstance(widgets[0], Label) and isinstance(widgets[1], Input)
    assert widgets[2].id == "a-error" and widgets[2].has_class("message") and widgets[2].has_class("error")


async def test_error_lines_of_their_own_id_and_a_field_on_a_row_in_a_stacked_form(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """The grade application: the proposed grade on a row among stacked fields, each refusal in the
    line the form names for it (fld-...-error), focus to the first, no application filed."""
    from crm_tui.store import db
    from crm_tui.ui.screens.grades import ApplicationFormScreen

    svc = ui_services
    jingli = staff_actor(svc, "jingli")
    cid = cs.create_customer(svc, jingli, "person", {"name": "欧阳青"}).id

    def filed() -> int:
        return int(db.scalar(svc.store, "SELECT count(*) FROM grade_application"))

    before = filed()
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, ApplicationFormScreen(svc, jingli, cid))
        await settle(pilot)
        form = app.screen
        assert form.query_one("#g-to").parent.has_class("field-row")
        assert not form.query_one("#g-reason").parent.has_class("field-row")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _text(form, "#fld-to_grade-error") != "" and _text(form, "#fld-reason-error") != ""
        assert form.focused is form.query_one("#g-to")
        assert form.query_one("#g-reason").has_class("-invalid")
        assert app.results == []
    assert filed() == before


async def test_password_fields_refused_under_their_field_and_the_password_is_unchanged(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """Change password on FormPart: the typed text hidden; the wrong current password refused under
    it, two new ones that differ under the repeat; the old password still signs in."""
    from crm_tui.services import staff
    from crm_tui.ui.screens.login import ChangePasswordScreen

    svc = ui_services
    jingli = staff_actor(svc, "jingli")
    app = dialog_host()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, ChangePasswordScreen(svc, jingli))
        form = app.screen
        assert all(form.query_one(f"#{f}", Input).password for f in ("old", "new", "again"))
        assert form.focused is form.query_one("#old", Input)
        await type_text(pilot, "wrong999")
        await pilot.press("enter")
        await type_text(pilot, "Jingli2027")
        await pilot.press("enter")
        await type_text(pilot, "Jingli2027")
        await pilot.press("enter")
        await settle(pilot)
        assert "wrong" in _text(form, "#old-error")
        assert form.focused is form.query_one("#old", Input)
        form.query_one("#old", Input).value = DEMO_PASSWORD
        form.query_one("#again", Input).value = "Jingli2028"
        form.query_one("#again", Input).focus()
        await pilot.pause()
        await pilot.press("enter")  # Enter in the repeat saves (the dialog has no Ctrl+S)
        await settle(pilot)
        assert _text(form, "#old-error") == ""
        assert "differ" in _text(form, "#again-error") and "differ" in _text(form, "#pw-message")
        assert form.focused is form.query_one("#again", Input)
        assert app.results == []
    assert staff.check_password(svc, jingli, DEMO_PASSWORD, "test")
