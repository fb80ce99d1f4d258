"""One module per kind of signal, as Mailman keeps one rule per module; the table is in signals.py."""
