"""The form screen part: fields from a specification, errors under their field, Tab order as listed.

A form lists its fields once, in the order a clerk fills them in (:class:`Field`, with a
:class:`Section` title between groups where the form has them), and yields them from its
``compose`` with :meth:`FormPart.compose_fields`, among whatever else it shows (a title, a hint,
the message line). From that one list the part

- builds each field: its label (``" *"`` after a required one), its widget, and, where the field
  asks for it, the line under it where a refusal is written (id: the widget's id + ``"-error"``);
- reads the values back (:meth:`FormPart.form_values`: text, the chosen code, ticked or not, the
  ticked codes);
- makes Enter move on, or save, in each one-line field (``Field.enter``; the screen lists
  ``ENTER_BINDING`` and has an ``action_save``);
- shows a service's refusal with the one mechanism of ui/base.py (``show_field_errors``: the
  reason under its field, the field marked, the message line naming them, focus to the first),
  mapping the service's field names to the widget ids listed here;
- focuses the field the clerk types in first (``Field.focus``, else the first field);
- shows any refusal of a service (:meth:`FormPart.show_refusal`): a field's reason under it, any
  other on the form's message line (``FORM_MESSAGE``).

A form's own widget (a preview line, a note) may stand among the fields: list the widget itself.
A dialog whose fields depend on the step (the complaint steps) builds its list from the step.

Two layouts: ``"stacked"`` (a dialog: the label above its field) and ``"rows"`` (a full-screen
form: the label left of its field on a ``field-row``, sections between). A form keeps its own
widget ids, so a refusal, a test or a stylesheet finds the field where it always was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.text import Text as RichText
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, SelectionList, Static, TextArea

from crm_tui.domain.errors import CrmError, ValidationError, ValidationErrors
from crm_tui.ui.base import clear_field_errors, show_field_errors

FieldKind = Literal["input", "select", "text", "check", "ticks", "readonly"]
Layout = Literal["stacked", "rows"]


@dataclass(frozen=True)
class Field:
    """One field of a form, as the clerk sees it.

    ``name`` is the key of :meth:`FormPart.form_values` and of a service's refusal; ``id`` the
    widget's id (default: the name). ``label`` and ``choices`` are shown as given (translate them
    when building the list). ``kind``: ``input`` (one line), ``select`` (a drop-down of
    ``choices``, (label, code) pairs), ``text`` (several lines), ``check`` (a tick box, ``label``
    its text), ``ticks`` (a list with a box to tick on each of ``choices``, ``value`` the codes
    ticked), ``readonly`` (the value shown, not edited)."""

    name: str
    label: str = ""
    kind: FieldKind = "input"
    value: Any = ""
    choices: Sequence[tuple[str, str]] = ()
    required: bool = False  # " *" after the label
    max_length: int = 200
    placeholder: str = ""
    password: bool = False  # a one-line field that shows dots for what is typed
    prompt: str | None = None  # a drop-down's text while nothing is chosen (None: Textual's)
    allow_blank: bool = True  # a drop-down may be left unchosen
    compact: bool = False
    classes: str | None = None  # of the widget
    height: int | None = None  # rows, for a list of ticks
    error: bool = False  # a line under the field for its refusal
    error_classes: str = "field-error"  # of that line (shown only with a refusal, unless styled otherwise)
    error_id: str = ""  # that line's id (default: the widget's id + "-error")
    layout: Layout | None = None  # this field's layout where it differs from the form's
    enter: Literal["next", "save"] | None = None  # what Enter does in a one-line field
    focus: bool = False  # where the clerk types first
    id: str = ""

    @property
    def widget_id(self) -> str:
        return self.id or self.name

    @property
    def error_line_id(self) -> str:
        return self.error_id or self.widget_id + "-error"


@dataclass(frozen=True)
class Section:
    """A title between groups of fields (the ``rows`` layout)."""

    label: str


Spec = Sequence[Field | Section | Widget]  # a widget: the form's own, shown where it is listed


def field_widget(f: Field) -> Widget:
    """The widget that edits (or shows) one field."""
    wid = f.widget_id
    if f.kind == "select":
        chosen = f.value if f.value in {code for _label, code in f.choices} else Select.NULL
        extra = {} if f.prompt is None else {"prompt": f.prompt}
        return Select(list(f.choices), value=chosen, id=wid, allow_blank=f.allow_blank, compact=f.compact,
                      classes=f.classes, **extra)
    if f.kind == "text":
        return TextArea(f.value or "", id=wid, classes=f.classes, compact=f.compact)
    if f.kind == "check":
        return Checkbox(f.label, bool(f.value), id=wid, classes=f.classes, compact=f.compact)
    if f.kind == "ticks":
        ticked = set(f.value or ())
        box = SelectionList[str](*[(label, code, code in ticked) for label, code in f.choices], id=wid,
                                 classes=f.classes, compact=f.compact)
        if f.height is not None:
            box.styles.height = f.height
        return box
    if f.kind == "readonly":
        return Static(f.value or "-", id=wid, classes="readonly")
    return Input(f.value or None, id=wid, max_length=f.max_length, placeholder=f.placeholder, compact=f.compact,
                 classes=f.classes, password=f.password)


def field_label(f: Field) -> str:
    return f.label + (" *" if f.required else "")


def compose_fields(spec: Spec, layout: Layout = "stacked") -> Iterator[Widget]:
    """The widgets of ``spec`` in order: a tick box on its own, any other field with its label
    (above it, or left of it on a row) and the line for its refusal where it has one."""
    for item in spec:
        if isinstance(item, Section):
            yield Label(item.label, classes="section")
            continue
        if isinstance(item, Widget):
            yield item
            continue
        if item.kind == "check":
            yield field_widget(item)
        elif (item.layout or layout) == "rows":
            yield Horizontal(Label(field_label(item), classes="field-label"), field_widget(item),
                             classes="field-row")
        else:
            if item.label:
                yield Label(field_label(item))
            yield field_widget(item)
        if item.error:
            yield Static("", id=item.error_line_id, classes=item.error_classes)


def read_widget(widget: Widget) -> Any:
    """What a field's widget holds: the text, the chosen code ("" for none), ticked or not, the
    ticked codes in the list's order."""
    if isinstance(widget, Select):
        return "" if widget.value is Select.NULL else str(widget.value)
    if isinstance(widget, TextArea):
        return widget.text
    if isinstance(widget, Checkbox):
        return widget.value
    if isinstance(widget, SelectionList):
        return list(widget.selected)
    if isinstance(widget, Input):
        return widget.value
    return None


class FormPart:
    """Mixed into a ``BaseScreen`` or ``BaseModal`` (before it) that yields :meth:`compose_fields`.

    The screen defines ``action_save``; Enter is handled here when the screen lists
    ``ENTER_BINDING``."""

    FORM_LAYOUT: Layout = "stacked"
    #: a refused field that is not in the list -> its widget id
    FIELD_ID: Callable[[str], str] = staticmethod(str)  # type: ignore[assignment]
    #: the line that names the refused fields and says any other refusal (None: the form has none)
    FORM_MESSAGE: str | None = "#form-message"

    _form_fields: list[Field]

    def compose_fields(self, spec: Spec) -> Iterator[Widget]:
        self._form_fields = [f for f in spec if isinstance(f, Field)]
        return compose_fields(spec, self.FORM_LAYOUT)

    @property
    def fields(self) -> list[Field]:
        return getattr(self, "_form_fields", [])

    def widget_of(self, name: str) -> Widget | None:
        """The widget of the field ``name`` (None when the form does not show it now)."""
        try:
            return self.query_one("#" + self.widget_id_of(name))  # type: ignore[attr-defined, no-any-return]
        except NoMatches:
            return None

    def form_values(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """The fields' values by name (of ``names`` only, when given); shown-only fields are left out."""
        wanted = None if names is None else set(names)
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.kind == "readonly" or (wanted is not None and f.name not in wanted):
                continue
            widget = self.widget_of(f.name)
            if widget is not None:
                out[f.name] = read_widget(widget)
        return out

    def widget_id_of(self, name: str) -> str:
        return next((f.widget_id for f in self.fields if f.name == name), None) or self.FIELD_ID(name)

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """A refusal (field name -> reason) on the form: ui/base.show_field_errors."""
        self._empty_error_lines()
        show_field_errors(self, errors, widget_id=self.widget_id_of, message=self.FORM_MESSAGE,  # type: ignore[arg-type]
                          error_id=self.error_id_of)

    def error_id_of(self, name: str) -> str:
        """The id of the line under the field ``name`` where its refusal is written."""
        f = next((f for f in self.fields if f.name == name), None)
        return f.error_line_id if f is not None else self.widget_id_of(name) + "-error"

    def clear_errors(self) -> None:
        """No refusal on the form: the lines under the fields emptied, no field marked, the message
        line empty."""
        self._empty_error_lines()
        clear_field_errors(self)  # type: ignore[arg-type]
        self.say("")

    def _empty_error_lines(self) -> None:
        """Empty the lines under the fields, styled as field errors or not (a line that always
        shows keeps its place)."""
        for f in self.fields:
            if f.error or f.error_id:
                try:
                    self.query_one("#" + f.error_line_id, Static).update("")  # type: ignore[attr-defined]
                except NoMatches:
                    pass

    def say(self, text: str) -> None:
        """A line on the form's message line (plain text, never markup)."""
        if self.FORM_MESSAGE is None:
            return
        try:
            self.query_one(self.FORM_MESSAGE, Static).update(RichText(text))  # type: ignore[attr-defined]
        except NoMatches:
            pass

    def show_refusal(self, error: CrmError) -> None:
        """A service's refusal on the form: each field's reason under it (focus to the first),
        anything else on the message line with the fields cleared. Nothing was saved either way."""
        if isinstance(error, ValidationErrors):
            self.show_errors(error.by_field())
        elif isinstance(error, ValidationError) and error.field:
            self.show_errors({error.field: error.message})
        else:
            self.clear_errors()
            self.say(error.message)

    def focus_first_field(self, *, at_once: bool = False) -> None:
        """Focus the field the clerk types in first (``Field.focus``, else the first listed).

        By default once the messages already queued are handled (``Widget.focus``): a drop-down
        focused at once would take its own first choice, posted on mount, as the clerk's and move
        on. ``at_once`` focuses now (``Screen.set_focus``), for a form whose first field is typed in."""
        first = next((f for f in self.fields if f.focus), self.fields[0] if self.fields else None)
        widget = self.widget_of(first.name) if first is not None else None
        if widget is None:
            return
        if at_once:
            self.set_focus(widget)  # type: ignore[attr-defined]
        else:
            widget.focus()

    async def action_enter(self) -> None:
        """Enter in a one-line field moves on (or saves) when the key arrives, with what was typed
        before it (ui/base.enter_in); elsewhere Enter does what the widget does."""
        from crm_tui.ui.base import enter_in

        actions: dict[str, Callable[[], object]] = {}
        for f in self.fields:
            if f.enter == "next":
                actions[f.widget_id] = self.focus_next  # type: ignore[attr-defined]
            elif f.enter == "save":
                actions[f.widget_id] = self.action_save  # type: ignore[attr-defined]
        await enter_in(self, actions)  # type: ignore[arg-type]
