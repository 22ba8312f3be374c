"""crm-tui: keyboard-driven, encrypted, offline customer management for a branch front desk."""

__version__ = "0.1.0"
