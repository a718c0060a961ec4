"""The escalation back office: tickets, appointment calendars and bookings, agents.

Service functions are keyword-only, take a SQLAlchemy `Session` and an explicit `now`
(so tests never depend on the real date), commit their own unit of work and raise
the domain exceptions of `chatbot.errors`; the API and the CLI translate those.
"""
