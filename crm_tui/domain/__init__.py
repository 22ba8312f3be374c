"""Pure rules: no Textual, no SQLAlchemy, no I/O beyond reading shipped data files."""
