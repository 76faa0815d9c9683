"""Local development services for photoservice: a SeaweedFS S3 store, PostgreSQL and Redis.

Run ``python -m devstack s3|postgres|redis`` for the development servers; tests use
:class:`devstack.seaweed.SeaweedS3`, :class:`devstack.postgres.EmbeddedPostgres` and
:class:`devstack.redis_server.EmbeddedRedis` directly.
"""
from devstack.postgres import DEV_POSTGRES_DIR, DEV_POSTGRES_PORT, EmbeddedPostgres
from devstack.redis_server import DEV_REDIS_DIR, DEV_REDIS_PORT, EmbeddedRedis, redis_server_binary
from devstack.seaweed import DEV_S3_DIR, SeaweedS3, free_port, load_dev_credentials

__all__ = ["DEV_POSTGRES_DIR", "DEV_POSTGRES_PORT", "DEV_REDIS_DIR", "DEV_REDIS_PORT",
           "DEV_S3_DIR", "EmbeddedPostgres", "EmbeddedRedis", "SeaweedS3", "free_port",
           "load_dev_credentials", "redis_server_binary"]
