"""Playbook loading internals: located reading (``cursor``), value readers (``fields``),
sections (``build``), cross-section checks (``checks``) and template checks. The public API is
``incident_bot.adapters.playbook_loader``."""
