"""Checks a photo's references against the caller's company in one query."""
from functools import lru_cache

from sqlalchemy import and_, bindparam, literal, select

from ..database import execute
from ..errors import InvalidInput
from ..jobs.queries import job_of

NOT_FOUND = "Does not exist."


def resolve_job(company_id, references):
    """The job a photo with these references belongs to, checking each one.

    `references` maps body field names to ids. Another company's id and a
    missing id get the same error. A line item of another job than `job` (or
    than another given line item) is refused, naming both fields.
    """
    if not references:
        return None
    statement = _parent_jobs_statement(tuple(references))
    row = execute(statement, {"company_id": company_id, **references}).one()._mapping
    missing = {field: [NOT_FOUND] for field in references if row[field] is None}
    if missing:
        raise InvalidInput(errors=missing)

    job_of = {field: row[field] for field in references}
    anchor = anchor_of(tuple(job_of))
    clashes = [field for field, job_id in job_of.items() if job_id != job_of[anchor]]
    if clashes:
        errors = {anchor: [f"Does not match the job of {', '.join(clashes)}."]}
        errors.update({field: [f"Belongs to another job than {anchor}."] for field in clashes})
        raise InvalidInput(f"{anchor} and {', '.join(clashes)} refer to different jobs.", errors)
    return job_of[anchor]


def anchor_of(fields):
    """The field whose job the others must share: `job` when given."""
    return "job" if "job" in fields else fields[0]


@lru_cache(maxsize=None)
def consistent_references(fields):
    """(subquery `refs`, condition): one row with each field's job, and the condition
    that every reference exists in the company and all share the anchor's job.

    For statements that act only when the references are right (a create's
    INSERT … SELECT); `resolve_job` explains a refusal. Binds as `resolve_job`.
    """
    refs = _parent_jobs_statement(fields).subquery("refs")
    anchor = anchor_of(fields)
    return refs, and_(*(refs.c[field].is_not(None) for field in fields),
                      *(refs.c[field] == refs.c[anchor] for field in fields if field != anchor))


@lru_cache(maxsize=None)
def _parent_jobs_statement(fields):
    """One row with a column per field: the job each given reference belongs to.

    Built once per combination of fields (at most 31), then only bound.
    """
    company_id = bindparam("company_id")
    return select(literal(1), *(job_of(field, bindparam(field), company_id).scalar_subquery().label(field)
                                for field in fields))
