"""The A4 report printer: a CUPS queue driven through pycups (`cups_backend.CupsPrinter`).

Importing this package loads no driver library; `state_map` and `jobs` work without pycups.
"""
