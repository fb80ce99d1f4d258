"""Where raw mail comes from: local mailbox files (:mod:`intake.sources.files`) and IMAP.

A source yields ``(raw bytes, source label)`` pairs; the label (``maildir:…/cur/123``,
``mbox:…#4``, ``eml:…/a.eml``, ``imap:INBOX/UID``) is stored with the message and used in logs
instead of anything a person wrote.
"""
