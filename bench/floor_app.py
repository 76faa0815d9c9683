"""The floor for the create benchmark: the least work POST /light/photos/ could do.

It parses a similar JSON body and returns `generate_presigned_post` from one boto3
client per process, with no database, no auth and no validation. Served by
gunicorn exactly like the real app: `gunicorn bench.floor_app:app`.
"""
import os
import secrets

import boto3
from botocore.config import Config
from flask import Flask, request

app = Flask(__name__)
_client = None


def client():
    global _client
    if _client is None:  # after fork, as the real app does
        _client = boto3.client(
            "s3", endpoint_url=os.environ["S3_ENDPOINT_URL"], region_name="us-east-1",
            aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    return _client


def upload_policy(key):
    return client().generate_presigned_post(
        Bucket=os.environ["S3_BUCKET"], Key=key, Fields={"Content-Type": "image/jpeg"},
        Conditions=[["content-length-range", 1, 104857600], ["starts-with", "$Content-Type", "image/"]],
        ExpiresIn=3600)


@app.post("/light/photos/")
def create():
    body = request.get_json()
    key = f"photo_{secrets.token_hex(4)}.jpg"
    return {"name": body["name"], "key": key, "upload_url": upload_policy(key)}, 201
