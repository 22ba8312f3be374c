"""Shared screen parts the area screens are built from.

An area screen module keeps only what is particular to its area: its columns, its actions and the
service calls behind them. Layout, paging, tabs with counts, the facts pane, the history table,
field errors and focus order live here, so a fix made once reaches every area.

- ``area``: ``AreaScreen``, a screen that holds the services and the signed-in actor.
- ``paged``: ``PagedTable``, a keyset-paged table (a page read in a worker, the next one near
  the bottom, at most ``MAX_ROWS`` rows, Enter opens the row): the queues and the customer list;
  ``PagedRows`` for a list without paging of its own.
- ``queue``: ``QueueScreen``, numbered tabs with counts over a ``PagedTable`` (a key for a new record).
- ``record``: ``RecordScreen``, a facts pane and a history table; after each load the footer offers
  only what the service allows now (``check_action``).
- ``form``: ``FormPart``, a form built from a field specification (label, kind, choices, required,
  what Enter does); refusals shown under their field through ``ui.base.show_field_errors``, and
  any refusal of a service through ``FormPart.show_refusal``. Every dialog with fields uses it,
  the complaint steps and follow-up, grade and holiday dialogs included.
- ``picker``: ``SearchPicker``, pick a customer as you type.
- ``leave``: ``leave_form``, the "discard the changes?" question when Esc leaves a typed-in form.

A new area screen starts from these; what a second area needs goes here, not into a copy.
"""
