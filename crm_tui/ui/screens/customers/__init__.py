"""Customer archives (F2): the list with search as you type (listing), one archive with its
timeline (detail), the watch lists (watch); the profile text (profile) and the measures and
choosing dialogs (measures) they share. The archive form is ui/screens/customer_form.py.

The old module's names stay importable from here."""

from crm_tui.ui.screens.customers.detail import CustomerDetailScreen
from crm_tui.ui.screens.customers.listing import MAX_ROWS, PAGE, CustomerListScreen
from crm_tui.ui.screens.customers.measures import (MEASURE_PERMISSIONS, MEASURES, ChoiceDialog, RevealDialog,
                                                   measures_for)
from crm_tui.ui.screens.customers.profile import KIND_LABELS, _display, category_label, profile_text
from crm_tui.ui.screens.customers.watch import WatchListScreen

__all__ = ["KIND_LABELS", "MAX_ROWS", "MEASURES", "MEASURE_PERMISSIONS", "PAGE", "ChoiceDialog",
           "CustomerDetailScreen", "CustomerListScreen", "RevealDialog", "WatchListScreen", "_display",
           "category_label", "measures_for", "profile_text"]
