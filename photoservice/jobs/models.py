"""Jobs and the documents whose line items photos can be attached to."""
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..extensions import db
from ..database import NamedCompanyObject


class Job(NamedCompanyObject, db.Model):
    __tablename__ = "jobs"


class JobInspection(NamedCompanyObject, db.Model):
    __tablename__ = "job_inspections"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)


class JobInspectionLineItem(NamedCompanyObject, db.Model):
    __tablename__ = "job_inspection_line_items"

    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("job_inspections.id", ondelete="CASCADE"), index=True
    )


class JobLineItem(NamedCompanyObject):
    """A line item that belongs directly to a job."""

    @declared_attr
    def job_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)


class EstimateLineItem(JobLineItem, db.Model):
    __tablename__ = "estimate_line_items"


class SupplementalLineItem(JobLineItem, db.Model):
    __tablename__ = "supplemental_line_items"


class ChangeOrderLineItem(JobLineItem, db.Model):
    __tablename__ = "change_order_line_items"


#: The line items that belong directly to a job, by the photo field that names them.
JOB_LINE_ITEMS = {
    "estimate_line_item": EstimateLineItem,
    "supplemental_line_item": SupplementalLineItem,
    "change_order_line_item": ChangeOrderLineItem,
}
