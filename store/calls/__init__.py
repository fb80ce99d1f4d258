"""Call records straight from the phone system: one reader module per format.

Every reader turns the lines of one phone system's own record file into :class:`~store.calls.base.Leg`
items (or skips, or bad rows) behind the same small interface (``NAME``, ``sniff``, ``read``);
:mod:`store.calls.legs` merges the legs of one inbound call into one call, and
:mod:`store.calls.importer` writes the calls, all-or-nothing and idempotently. ``casework calls
follow`` (:mod:`store.calls.follow`) feeds the same readers from a file as it grows.
"""
