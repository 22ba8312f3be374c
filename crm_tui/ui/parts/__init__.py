"""Shared screen parts the area screens are built from (queue, record and form screens).

An area screen module keeps only what is particular to its area: its columns, its actions and the
service calls behind them. Layout, paging, tabs with counts, the facts pane, the history table,
field errors and focus order live here, so a fix made once reaches every area.
"""
