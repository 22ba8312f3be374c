"""Importing customers from spreadsheets (issue 9): CSV in UTF-8, UTF-8 with BOM or GBK/GB18030,
and XLSX; a dry run with a per-row error report; then all valid rows, or nothing.

Each row is checked with the customer archive's own validation (``domain.customers``), its staff
names resolved like the form does, duplicates found against the archive (ID number, credit code,
phone) and within the file. Writing is bulk inserts (plain SQL executemany, the same rows
``services.customers.create_customer`` writes: customer, phones, tags, staff contacts, consents,
search terms) in short transactions of at most CHUNK rows (fewer when one holds the write lock past
HOLD_TARGET), so a desk saving meanwhile waits a fraction of a second (issue 17). The rows are an
import batch (store/pending.py): hidden from every list, count, report and search until one short
final transaction publishes them with ONE audit entry for the whole import. Each transaction checks
its rows' ID numbers, credit codes and phones against the archive again (another import of the same
file, or a desk, may have written them since the dry run; such rows are skipped as duplicates), and
the schema keeps live ID numbers and credit codes unique. A cancel or any error removes what was
written (short transactions again); a killed process leaves its batch hidden, and the next start
removes it (:func:`discard_abandoned`). A backup is taken before. Needs import.run.
"""

from __future__ import annotations

from crm_tui.i18n import N_
from crm_tui.services.context import PERMISSION_LABELS

PERMISSION_LABELS.setdefault("import.run", N_("import data"))

from crm_tui.services.importing.model import (  # noqa: E402, F401
    CONSENT_PURPOSE,
    MAX_ROWS,
    NAME_CACHE,
    Duplicate,
    ImportCancelled,
    ImportFileError,
    ImportRefused,
    ImportResult,
    Plan,
    RowError,
    Table,
    _gc_paused,
    _gc_young,
    _Ready,
    auto_mapping,
    known_fields,
)
from crm_tui.services.importing.files import _xlsx_rows, read_file  # noqa: E402, F401
from crm_tui.services.importing.mappings import (  # noqa: E402, F401
    _check,
    delete_mapping,
    header_label,
    list_mappings,
    load_mapping,
    mapping_problems,
    parse_mapping_args,
    save_mapping,
)
from crm_tui.services.importing.dryrun import _plan, _staff_lookup, plan  # noqa: E402, F401
from crm_tui.services.importing.batch import (  # noqa: E402, F401
    CHUNK,  # a copy: tests that change it patch crm_tui.services.importing.batch
    HOLD_TARGET,
    MIN_CHUNK,
    PLACEHOLDER_NAME,
    Discarded,
    _Batch,
    _cal,
    _discard_batch,
    _is_taken,
    _taken,
    _write_rows,
    discard_abandoned,
    discarded_message,
)
from crm_tui.services.importing.write import _FILLABLE, _fill, _run, run  # noqa: E402, F401
from crm_tui.services.importing.timeline import _import_source  # noqa: E402, F401  (registers the timeline source)

__all__ = ["Duplicate", "ImportCancelled", "ImportResult", "Plan", "RowError", "Table", "auto_mapping",
           "delete_mapping", "known_fields", "list_mappings", "load_mapping", "plan", "read_file", "run",
           "save_mapping"]
