"""SQL text about the audit table that code on the start path needs without SQLAlchemy.

``store.backup`` (loaded at start to tidy the backup folder) reads the chain head through
:data:`HASH_HEX`; importing it from ``store.audit`` pulled in SQLAlchemy (~130 ms CPU) before the
login screen, which the start-up figure caught (issue 22). Keep this module free of imports.
"""

#: audit_log.hash is stored as its 32 bytes (migration 2203; 64 hex characters before, and in older
#: files and backups): every reader takes it through this expression, as lowercase hex.
HASH_HEX = "CASE typeof(hash) WHEN 'blob' THEN lower(hex(hash)) ELSE hash END"
