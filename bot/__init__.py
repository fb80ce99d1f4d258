"""Slack in and out: the /casework command, triage buttons, App Home and the outbox sender.

The bot reads and writes cases only through ``store``; it never imports ``intake``.
"""
