"""The app without its request ids and request line, for `make bench BENCH_ARGS=--request-log`.

The same code as `wsgi:app` with the three hooks of photoservice/web/request_log.py taken
off, served beside it in the same run: the difference between the two is what the id
and the line cost a create.
"""
from photoservice.web import request_log
from wsgi import app

app.before_request_funcs[None].remove(request_log.start)
app.after_request_funcs[None].remove(request_log.finish)
app.teardown_request_funcs[None].remove(request_log.unbind)
