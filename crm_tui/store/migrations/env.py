"""Alembic environment: always run on a connection handed in by crm_tui.store.migrate."""

from alembic import context

from crm_tui.store.models import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
