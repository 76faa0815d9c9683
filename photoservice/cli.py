"""Operator commands: `flask --app wsgi <command>`. Each prints one JSON object
(on stdout; a long command's progress goes to stderr)."""
import json

import click
from flask import current_app

from .accounts.api_keys import issue_key, revoke_key
from .accounts.models import Company, Role, User
from .accounts.services import create_company, create_user
from .database import MAX_ID
from .demo import seed_demo
from .errors import DependencyUnavailable
from .extensions import db
from .jobs import services as jobs
from .photos.models import Photo
from .photos.rebuild import BATCH, requeue_media
from .storage import put_bucket_cors
from .store_cors import bucket_cors, store_origins


def _emit(obj):
    db.session.commit()
    click.echo(json.dumps(obj))


def _require(model, object_id, what):
    if db.session.get(model, object_id) is None:
        raise click.BadParameter(f"no {what} with id {object_id}")


@click.command("seed-demo")
def seed_demo_command():
    """Create two fresh demo companies with users, keys, jobs and line items."""
    click.echo(json.dumps(seed_demo()))


@click.command("create-company")
@click.argument("name")
def create_company_command(name):
    """Create a company."""
    _emit({"id": create_company(name).id, "name": name})


@click.command("create-user")
@click.option("--company", "company_id", type=int, required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.argument("name")
def create_user_command(company_id, role, name):
    """Create a user of a company with a role."""
    _require(Company, company_id, "company")
    user = create_user(company_id, name, role)
    _emit({"id": user.id, "company": company_id, "role": role, "name": name})


@click.command("create-api-key")
@click.option("--user", "user_id", type=int, required=True)
def create_api_key_command(user_id):
    """Issue an API key for a user; the key is shown only this once."""
    _require(User, user_id, "user")
    row, key = issue_key(db.session.get(User, user_id))
    _emit({"id": row.id, "user": user_id, "api_key": key})


@click.command("revoke-api-key")
@click.argument("key_id", type=int)
def revoke_api_key_command(key_id):
    """Revoke an API key by its id; it stops working at once."""
    if not revoke_key(key_id):
        raise click.BadParameter(f"no API key with id {key_id}")
    _emit({"id": key_id, "revoked": True})


@click.command("create-job")
@click.option("--company", "company_id", type=int, required=True)
@click.argument("name")
def create_job_command(company_id, name):
    """Create a job for a company."""
    _require(Company, company_id, "company")
    _emit({"id": jobs.create_job(company_id, name).id, "company": company_id, "name": name})


@click.command("create-inspection")
@click.option("--job", "job_id", type=int, required=True)
@click.argument("name")
def create_inspection_command(job_id, name):
    """Create a job inspection."""
    _emit({"id": _or_fail(jobs.create_inspection, job_id, name).id, "job": job_id})


@click.command("create-line-item")
@click.option("--kind", type=click.Choice(["inspection", *jobs.LINE_ITEM_KINDS]), required=True)
@click.option("--parent", "parent_id", type=int, required=True,
              help="The inspection id for inspection line items, else the job id.")
@click.argument("name")
def create_line_item_command(kind, parent_id, name):
    """Create a line item: inspection, estimate, supplemental or change-order."""
    if kind == "inspection":
        item = _or_fail(jobs.create_inspection_line_item, parent_id, name)
    else:
        item = _or_fail(jobs.create_job_line_item, kind, parent_id, name)
    _emit({"id": item.id, "kind": kind, "parent": parent_id})


def _or_fail(create, *args):
    try:
        return create(*args)
    except jobs.UnknownObject as error:
        raise click.BadParameter(str(error)) from None


@click.command("rebuild-media")
@click.option("--company", "company_id", type=click.IntRange(1, MAX_ID), help="Only this company's photos.")
@click.option("--photo", "photo_id", type=click.IntRange(1, MAX_ID), help="Only this photo.")
@click.option("--batch", type=click.IntRange(1, 10_000), default=BATCH, show_default=True,
              help="Photos per transaction.")
def rebuild_media_command(company_id, photo_id, batch):
    """Queue media work again for uploaded photos, so each gets the derivatives of the
    current table; a line per batch on stderr. Safe to run again."""
    if company_id is not None:
        _require(Company, company_id, "company")
    if photo_id is not None:
        _require(Photo, photo_id, "photo")
    requeued = 0
    for done in requeue_media(company_id, photo_id, batch):
        requeued += done.requeued
        click.echo(f"rebuild-media: {requeued} photos re-queued, up to photo id {done.last_id}",
                   err=True)
    _emit({"requeued": requeued, "company": company_id, "photo": photo_id})


@click.command("apply-bucket-cors")
def apply_bucket_cors_command():
    """Give the bucket the CORS rule browsers need: CORS_ORIGINS and PUBLIC_URL may POST,
    PUT and GET there (uploads and thumbnails), ETag exposed. Replaces the bucket's rules."""
    config = current_app.config
    origins = store_origins(config["CORS_ORIGINS"], config["PUBLIC_URL"])
    try:
        put_bucket_cors(bucket_cors(origins))
    except DependencyUnavailable as error:
        raise click.ClickException(f"{error} (see the log above)") from None
    click.echo(json.dumps({"bucket": config["S3_BUCKET"], "origins": origins}))


def register_commands(app):
    for command in (seed_demo_command, create_company_command, create_user_command,
                    create_api_key_command, revoke_api_key_command, create_job_command,
                    create_inspection_command, create_line_item_command, rebuild_media_command,
                    apply_bucket_cors_command):
        app.cli.add_command(command)
