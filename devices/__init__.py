"""The kiosk's four devices behind small interfaces, with real backends and simulators.

Importing this package loads no driver library: backends are imported when the registry builds them.
"""
