"""Local development services for photoservice (currently: a SeaweedFS S3 store).

Run ``python -m devstack s3`` for the development S3 server; tests use
:class:`devstack.seaweed.SeaweedS3` directly.
"""
from devstack.seaweed import DEV_S3_DIR, SeaweedS3, free_port, load_dev_credentials

__all__ = ["DEV_S3_DIR", "SeaweedS3", "free_port", "load_dev_credentials"]
