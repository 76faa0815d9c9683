"""gunicorn's settings, read by both Procfiles (`-c gunicorn.conf.py`) and by default.

No access log: the app writes one line per request, with its request id and caller
(photoservice/web/request_log.py). gunicorn's own lines (start, workers, timeouts)
take the app's format and level, LOG_FORMAT and LOG_LEVEL (photoservice/logs.py).
"""
from gunicorn.glogging import Logger

from photoservice import logs, settings

accesslog = None


class AppFormatLogger(Logger):
    """gunicorn's error log, in the app's log format."""

    def setup(self, cfg):
        super().setup(cfg)
        config = settings.from_environ()
        self.error_log.setLevel(config["LOG_LEVEL"])
        for handler in self.error_log.handlers:
            logs.prepare(handler, config["LOG_FORMAT"])


logger_class = AppFormatLogger
