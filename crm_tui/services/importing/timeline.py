""""Imported from <file>" on each imported customer's timeline."""

from __future__ import annotations

import json
from typing import Any

from crm_tui.i18n import _
from crm_tui.services import customers as cust
from crm_tui.store.queries import importing as q


# -- the customer's timeline ------------------------------------------------------------------------

@cust.register_timeline_source("import")
def _import_source(s: Any, customer_id: int, before: Any, limit: int) -> list[cust.TimelineEntry]:
    """"Imported from <file>" on each imported customer's timeline, read from the import's single
    audit entry (it records the range of customer ids the import created)."""
    out = []
    for aid, at, actor_name, details in q.import_entry(s, customer_id, before):
        d = json.loads(details)
        at_ = cust._dt(at)
        assert at_ is not None
        out.append(cust.TimelineEntry(at_, "import", _("Imported from {file}", file=d.get("file", "")),
                                      _("One of {n} customers imported together (audit entry {id}).",
                                        n=d.get("imported", 0), id=aid), actor_name or "",
                                      cust.timeline_key(at_, "import", int(aid))))
    return out
