"""The ``crm-tui`` command. Every command calls services; errors are one clear line, no traceback.

Where a new command goes: in the module of its area (one Typer group per area, made and added to
``app`` in that module), each module well under 700 lines:

- ``common``: the app, the global options (``G``), signing in, passwords from stdin, printing;
- ``database``: init, doctor, demo, key export/import; ``backups``: backup, restore, key rotate;
- ``users``: user, user cover; ``admin``: audit, settings, calendar, approval;
- ``transfer``: import, export; ``customers``: customer, customer consent;
- ``incidents``: incident; ``workflow``: report, register, grades;
- ``errors``: ``fail`` and the usage errors (issue 17).

The modules are imported below in the order the commands were defined: ``crm-tui --help`` lists
commands and groups in that order. Commands look up ``common.G`` and ``common._place`` at call
time (tests replace them there). The names of the old ``cli.py`` stay importable from here.
"""

from __future__ import annotations

import sys

from crm_tui.cli import common, database, users, backups, transfer, admin, customers, incidents, workflow  # noqa: I001 - registration order
from crm_tui.cli.common import (  # noqa: F401 - the old cli.py's names, re-exported
    G,
    Globals,
    _all_stdin,
    _ask_password,
    _code_text,
    _out,
    _pad,
    _place,
    _run_app,
    _set_globals,
    _signed_in,
    _stdin_line,
    app,
    audit_app,
    key_app,
    main_callback,
    prepare_app,
    settings_app,
    user_app,
)
from crm_tui.cli.database import (  # noqa: F401
    demo,
    doctor,
    init,
    key_export,
    key_import,
)
from crm_tui.cli.users import (  # noqa: F401
    cover_app,
    cover_list,
    cover_revoke,
    cover_set,
    user_add,
    user_disable,
    user_enable,
    user_list,
    user_passwd,
    user_roles,
)
from crm_tui.cli.backups import (  # noqa: F401
    backup_app,
    backup_delete,
    backup_list,
    backup_main,
    backup_verify,
    key_rotate,
    restore,
    _size,
    _verified_text,
)
from crm_tui.cli.transfer import (  # noqa: F401
    export_app,
    export_customers,
    import_app,
    import_customers,
    _write_report,
)
from crm_tui.cli.admin import (  # noqa: F401
    approval_app,
    approval_approve,
    _approval_line,
    approval_list,
    approval_reject,
    approval_request,
    audit_list,
    audit_verify,
    calendar_app,
    calendar_import,
    calendar_set,
    calendar_show,
    calendar_unset,
    _print_change,
    settings_list,
    settings_set,
    _weekday,
)
from crm_tui.cli.customers import (  # noqa: F401
    _by_number,
    consent_add,
    consent_app,
    consent_list,
    consent_withdraw,
    customer_app,
    customer_clear_false_info,
    customer_destroy_expired,
    customer_erase,
    customer_false_info,
    customer_file_shared_phone,
    customer_inspect_phone,
    customer_resume_business,
    customer_sign_shared_phone,
    customer_stop_business,
    customer_surveys_due,
    customer_to_tell,
    customer_told,
    customer_watch,
    _WATCH_NAMES,
)
from crm_tui.cli.incidents import (  # noqa: F401
    incident_affected,
    incident_app,
    incident_close,
    incident_list,
    incident_measures,
    incident_new,
    incident_notice,
    incident_report,
    incident_show,
)
from crm_tui.cli.workflow import (  # noqa: F401
    _cli_day,
    grades_app,
    grades_contact_plan,
    grades_standard_changes,
    grades_standard_decide,
    register_app,
    register_resolve,
    register_unregistered,
    report_cmd,
)
from crm_tui.cli.errors import (
    _BAD_VALUE,
    _bad_value_detail,
    _click_exception_classes,
    _crash,
    _is_click_exception,
    _is_usage_error,
    _show_usage_error,
    _usage_error_classes,
    _usage_message,
    fail,
)


def main() -> None:
    """Every command line but a plain start of the app (``crm_tui.start.main`` sends them here)."""
    try:
        rc = app(standalone_mode=False, prog_name="crm-tui")  # click returns the code of a typer.Exit here
    except BaseException as e:  # noqa: BLE001 - fail() says it in one line or re-raises
        fail(e)
    sys.exit(rc if isinstance(rc, int) else 0)
