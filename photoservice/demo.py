"""Demo data: two companies, each with three users and a pair of jobs."""
import secrets

from .accounts.api_keys import issue_key
from .accounts.models import Role
from .accounts.services import create_company, create_user
from .extensions import db
from .jobs import services as jobs


def seed_company(label):
    """One company: owner, employee and crew with keys; every line item on its first job."""
    company = create_company(f"Demo Roofing {label}")
    users = []
    for role in Role:
        user = create_user(company.id, f"{role.value.title()} {label}", role.value)
        _, key = issue_key(user)
        users.append({"id": user.id, "role": role.value, "api_key": key})
    first, second = (jobs.create_job(company.id, f"{label} job {n}") for n in (1, 2))
    inspection = jobs.create_inspection(first.id, "Roof inspection")
    return {
        "id": company.id,
        "users": users,
        "jobs": [first.id, second.id],
        "job_inspection_line_item":
            jobs.create_inspection_line_item(inspection.id, "North slope").id,
        "estimate_line_item": jobs.create_job_line_item("estimate", first.id, "Shingles").id,
        "supplemental_line_item":
            jobs.create_job_line_item("supplemental", first.id, "Drip edge").id,
        "change_order_line_item":
            jobs.create_job_line_item("change-order", first.id, "Decking").id,
    }


def seed_demo():
    """Create a fresh pair of demo companies and commit them."""
    run = secrets.token_hex(3)
    result = {"companies": [seed_company(f"{run}-{side}") for side in ("A", "B")]}
    db.session.commit()
    return result
