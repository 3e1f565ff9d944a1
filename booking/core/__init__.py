"""The core: what every domain builds on and that knows none of them.

Settings, the database engines and their capabilities, links and tokens, the clock and time
zones, encryption, errors, logging. Nothing here imports a domain package or the web layer.
"""
