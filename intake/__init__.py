"""Mail in: sources (IMAP, Maildir, mbox, .eml) feed one pipeline of small named steps.

parse → dedupe → thread → automatic mail → campaign → classify → store → acknowledge.
Intake talks to the rest of casework only through ``store``.
"""
