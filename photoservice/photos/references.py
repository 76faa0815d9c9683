"""Checks a photo's references against the caller's company in one query."""
from functools import lru_cache

from sqlalchemy import bindparam, literal, select

from ..errors import InvalidInput, invalid_request_summary
from ..jobs.models import (ChangeOrderLineItem, EstimateLineItem, Job, JobInspection,
                           JobInspectionLineItem, SupplementalLineItem)
from ..statements import execute

NOT_FOUND = "Does not exist."


def _parent_job_query(field):
    """A scalar subquery: the job of the id bound as `field`, or NULL if that id is
    not the company's (bound as `company_id`)."""
    object_id, company_id = bindparam(field), bindparam("company_id")
    if field == "job":
        return select(Job.id).where(Job.id == object_id, Job.company_id == company_id)
    if field == "job_inspection_line_item":
        return (
            select(JobInspection.job_id)
            .join(JobInspectionLineItem, JobInspectionLineItem.inspection_id == JobInspection.id)
            .where(JobInspectionLineItem.id == object_id,
                   JobInspectionLineItem.company_id == company_id)
        )
    model = {
        "estimate_line_item": EstimateLineItem,
        "supplemental_line_item": SupplementalLineItem,
        "change_order_line_item": ChangeOrderLineItem,
    }[field]
    return select(model.job_id).where(model.id == object_id, model.company_id == company_id)


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
        raise InvalidInput(invalid_request_summary(missing), missing)

    job_of = {field: row[field] for field in references}
    anchor = "job" if "job" in job_of else next(iter(job_of))
    clashes = [field for field, job_id in job_of.items() if job_id != job_of[anchor]]
    if clashes:
        errors = {anchor: [f"Does not match the job of {', '.join(clashes)}."]}
        errors.update({field: [f"Belongs to another job than {anchor}."] for field in clashes})
        raise InvalidInput(f"{anchor} and {', '.join(clashes)} refer to different jobs.", errors)
    return job_of[anchor]


@lru_cache(maxsize=None)
def _parent_jobs_statement(fields):
    """One row with a column per field: the job each given reference belongs to.

    Built once per combination of fields (at most 31), then only bound.
    """
    return select(literal(1), *(_parent_job_query(field).scalar_subquery().label(field)
                                for field in fields))
