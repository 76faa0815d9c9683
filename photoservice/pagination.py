"""Page-number paging with `{count, next, previous, results}` bodies."""
from urllib.parse import urlencode

from flask import request
from sqlalchemy import func, select

from .extensions import db


def _page_link(page):
    args = request.args.copy()
    args["page"] = str(page)
    return f"{request.base_url}?{urlencode(list(args.items(multi=True)))}"


def paginate(query, order_by, page, page_size):
    """Run one page of `query`; links keep the request's other parameters."""
    count = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    results = db.session.execute(
        query.order_by(*order_by).limit(page_size).offset((page - 1) * page_size)
    ).scalars().all()
    last_page = max(1, -(-count // page_size))
    return {
        "count": count,
        "next": _page_link(page + 1) if page < last_page else None,
        "previous": _page_link(min(page - 1, last_page)) if page > 1 else None,
        "results": results,
    }
