"""Page-number paging: `{count, next, previous, results}` bodies."""
from urllib.parse import urlencode

from flask import request


def _page_link(page):
    args = request.args.copy()
    args["page"] = str(page)
    return f"{request.base_url}?{urlencode(list(args.items(multi=True)))}"


def page_body(count, results, page, page_size):
    """The body of one page; links keep the request's other parameters."""
    last_page = max(1, -(-count // page_size))
    return {
        "count": count,
        "next": _page_link(page + 1) if page < last_page else None,
        "previous": _page_link(min(page - 1, last_page)) if page > 1 else None,
        "results": results,
    }
