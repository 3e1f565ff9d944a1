"""The web layer: the Litestar application, its routers per audience, and HTTP plumbing.

Domains know nothing of HTTP; this package turns requests into calls of their services and
their answers and errors into responses.
"""
