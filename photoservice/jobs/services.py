"""Creating jobs and the line items photos attach to (operator CLI, demos, tests)."""
from ..extensions import db
from .models import JOB_LINE_ITEMS, Job, JobInspection, JobInspectionLineItem

#: The operator's names for line-item kinds (`create-line-item --kind`).
LINE_ITEM_KINDS = {field.removesuffix("_line_item").replace("_", "-"): model
                   for field, model in JOB_LINE_ITEMS.items()}


class UnknownObject(LookupError):
    pass


def _add(row):
    db.session.add(row)
    db.session.flush()
    return row


def _job(job_id):
    job = db.session.get(Job, job_id)
    if job is None:
        raise UnknownObject(f"no job {job_id}")
    return job


def create_job(company_id, name):
    return _add(Job(company_id=company_id, name=name))


def create_inspection(job_id, name):
    job = _job(job_id)
    return _add(JobInspection(company_id=job.company_id, job_id=job.id, name=name))


def create_inspection_line_item(inspection_id, name):
    inspection = db.session.get(JobInspection, inspection_id)
    if inspection is None:
        raise UnknownObject(f"no inspection {inspection_id}")
    return _add(JobInspectionLineItem(
        company_id=inspection.company_id, inspection_id=inspection.id, name=name))


def create_job_line_item(kind, job_id, name):
    """An estimate, supplemental or change-order line item of a job."""
    job = _job(job_id)
    return _add(LINE_ITEM_KINDS[kind](company_id=job.company_id, job_id=job.id, name=name))
