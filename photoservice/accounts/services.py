"""Creating companies and users (operator CLI, demos, tests)."""
from ..extensions import db
from .models import Company, Role, User


def create_company(name):
    company = Company(name=name)
    db.session.add(company)
    db.session.flush()
    return company


def create_user(company_id, name, role):
    """Add a user with `role` (owner, employee or crew) to a company."""
    user = User(company_id=company_id, name=name, role=Role(role))
    db.session.add(user)
    db.session.flush()
    return user
