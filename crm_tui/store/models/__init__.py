"""SQLModel tables. Every table module is imported here so ``SQLModel.metadata`` is complete.

Times are naive local wall-clock times (the branch works in one time zone, China has no daylight
saving, and working hours, working days and deadlines are all local notions).
"""

from sqlmodel import SQLModel

from crm_tui.store.models import core  # noqa: F401
from crm_tui.store.models import customers  # noqa: F401
from crm_tui.store.models import complaints  # noqa: F401

metadata = SQLModel.metadata
from crm_tui.store.models import importing  # noqa: F401
from crm_tui.store.models import followups  # noqa: E402,F401
from crm_tui.store.models import grades  # noqa: F401
from crm_tui.store.models import holidays  # noqa: E402,F401
from crm_tui.store.models import security  # noqa: E402,F401
from crm_tui.store.models import frontdesk  # noqa: E402,F401
from crm_tui.store.models import consent  # noqa: E402,F401
from crm_tui.store.models import summary  # noqa: E402,F401
