"""The case store: the one source of truth that intake writes and the bot and scheduler read.

``models`` holds the tables, ``db`` the engine, and each other module one job's queries as
plain keyword-only functions that take a session.
"""
