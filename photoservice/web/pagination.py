"""Page-number paging: `{count, next, previous, results}` bodies; and cursor paging,
where `count` is null (an exact count is what grows with the data) and `next` follows
`next_cursor`."""
from urllib.parse import urlencode

from flask import request


def _page_link(page=None, cursor=None):
    args = request.args.copy()
    if cursor is None:
        args["page"] = str(page)
    else:
        args.pop("page", None)
        args["cursor"] = cursor
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


def cursor_body(results, next_cursor):
    """The body of one cursor page: no count, no way back, the next one's cursor."""
    return {"count": None, "next": _page_link(cursor=next_cursor) if next_cursor else None,
            "previous": None, "results": results, "next_cursor": next_cursor}
