"""HTTP plumbing every resource shares: the Blueprint, auth, fields, paging,
OpenAPI extras, rate limits, health checks and the error handlers.

Only `routes.py` and `schemas.py` of the resources import from here; services
and models never do.
"""
