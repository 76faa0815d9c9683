"""Which job a job or line item belongs to: the one query for every caller."""
from sqlalchemy import select

from .models import JOB_LINE_ITEMS, Job, JobInspection, JobInspectionLineItem


def job_of(field, object_id, company_id):
    """A select of the job that the object a photo's `field` names belongs to.

    `field` is `job` or a line-item field (`job_inspection_line_item`, ...);
    `object_id` and `company_id` are values or bind parameters. Another
    company's object selects nothing, exactly like a missing one.
    """
    if field == "job":
        return select(Job.id).where(Job.id == object_id, Job.company_id == company_id)
    if field == "job_inspection_line_item":
        return (
            select(JobInspection.job_id)
            .join(JobInspectionLineItem, JobInspectionLineItem.inspection_id == JobInspection.id)
            .where(JobInspectionLineItem.id == object_id,
                   JobInspectionLineItem.company_id == company_id)
        )
    model = JOB_LINE_ITEMS[field]
    return select(model.job_id).where(model.id == object_id, model.company_id == company_id)
