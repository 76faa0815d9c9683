"""The real worker of the pipeline tests, for the media tests that run one."""
from tests.processing.conftest import start_worker, wait_processed  # noqa: F401 (fixtures)
