"""AWS Signature Version 4 for the store's presigned POST policies, GET URLs and part PUTs.

Pure functions of the endpoint, region, credentials and clock: nothing here reads
settings or talks to the store. Signed here rather than by botocore: every create
carries a policy and a list page two URLs per photo, and botocore spends ~300 us on
each (endpoint rules, events, request objects) where the signature itself is a hash
and one HMAC. tests/test_storage.py holds both to botocore's generate_presigned_post
and generate_presigned_url, field for field, with a fixed clock (tests/test_multipart_store.py
holds the part PUTs to generate_presigned_url's upload_part).
"""
import base64
import hashlib
import hmac
import json
from datetime import timedelta, timezone
from functools import lru_cache
from urllib.parse import quote, urlsplit


def presigned_post(endpoint, region, credentials, bucket, key, fields, conditions, expires, now):
    """A path-style S3 POST form for `key` signed with SigV4, valid from `now` (an aware
    datetime) for `expires` seconds: {"url", "fields"}, as botocore's generate_presigned_post."""
    scheme, netloc, prefix, _ = _endpoint(endpoint)
    access_key, secret_key = credentials
    now = now.astimezone(timezone.utc)
    timestamp = now.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{access_key}/{timestamp[:8]}/{region}/s3/aws4_request"
    policy = {
        "expiration": (now + timedelta(seconds=expires)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "conditions": [*conditions, {"bucket": bucket}, {"key": key},
                       {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-credential": credential},
                       {"x-amz-date": timestamp}],
    }
    encoded = base64.b64encode(json.dumps(policy).encode()).decode()
    signature = hmac.digest(_signing_key(secret_key, timestamp[:8], region), encoded.encode(), "sha256")
    return {
        "url": f"{scheme}://{netloc}{prefix}/{quote(bucket, safe='')}",
        "fields": {**fields, "key": key, "x-amz-algorithm": "AWS4-HMAC-SHA256",
                   "x-amz-credential": credential, "x-amz-date": timestamp, "policy": encoded,
                   "x-amz-signature": signature.hex()},
    }


def presigned_get(endpoint, region, credentials, bucket, key, expires, now, content_type=None):
    """A path-style S3 GET URL signed with SigV4 in its query string, valid from `now`
    (an aware datetime) for `expires` seconds; answered as `content_type` if given."""
    return get_signer(endpoint, region, credentials, bucket, expires, now)(key, content_type)


def get_signer(endpoint, region, credentials, bucket, expires, now):
    """(key, content_type=None) -> presigned_get(…, key, …): what every key's URL shares is
    made once."""
    scheme, netloc, prefix, host = _endpoint(endpoint)
    prefix = f"{prefix}/{quote(bucket, safe='')}/"
    access_key, secret_key = credentials
    timestamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    scope = f"{timestamp[:8]}/{region}/s3/aws4_request"
    credential = quote(f"{access_key}/{scope}", safe="")
    # Also the canonical query string: these parameters in this (sorted) order.
    query = (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}&X-Amz-Date={timestamp}"
             f"&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host")
    request_tail = f"\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
    string_head = f"AWS4-HMAC-SHA256\n{timestamp}\n{scope}\n"
    signing_key = _signing_key(secret_key, timestamp[:8], region)
    base = f"{scheme}://{netloc}"

    def url(key, content_type=None):
        path = prefix + quote(key, safe="/~")
        # response-* sorts after X-Amz-*: the canonical order is the URL's.
        signed = query if content_type is None else \
            f"{query}&response-content-type={quote(content_type, safe='')}"
        digest = hashlib.sha256(f"GET\n{path}\n{signed}{request_tail}".encode()).hexdigest()
        signature = hmac.digest(signing_key, (string_head + digest).encode(), "sha256").hex()
        return f"{base}{path}?{signed}&X-Amz-Signature={signature}"
    return url


def part_signer(endpoint, region, credentials, bucket, key, upload_id, expires, now):
    """(part_number, length) -> a path-style presigned PUT of one part of multipart upload
    `upload_id` of `key`, valid from `now` for `expires` seconds, as botocore's
    generate_presigned_url("upload_part", ContentLength=length) makes it.

    The length is a signed header: a store that checks signed headers (S3, SeaweedFS)
    refuses a body of any other length. A client sends nothing for it: the body sets it.
    """
    scheme, netloc, prefix, host = _endpoint(endpoint)
    path = f"{prefix}/{quote(bucket, safe='')}/{quote(key, safe='/~')}"
    access_key, secret_key = credentials
    timestamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    scope = f"{timestamp[:8]}/{region}/s3/aws4_request"
    upload = quote(upload_id, safe="~")
    query = (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={quote(f'{access_key}/{scope}', safe='')}"
             f"&X-Amz-Date={timestamp}&X-Amz-Expires={expires}&X-Amz-SignedHeaders=content-length%3Bhost")
    string_head = f"AWS4-HMAC-SHA256\n{timestamp}\n{scope}\n"
    signing_key = _signing_key(secret_key, timestamp[:8], region)

    def url(part_number, length):
        # Canonical order: X-Amz-* sort before partNumber and uploadId.
        canonical = (f"PUT\n{path}\n{query}&partNumber={part_number}&uploadId={upload}\n"
                     f"content-length:{length}\nhost:{host}\n\ncontent-length;host\nUNSIGNED-PAYLOAD")
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        signature = hmac.digest(signing_key, (string_head + digest).encode(), "sha256").hex()
        return (f"{scheme}://{netloc}{path}?uploadId={upload}&partNumber={part_number}&{query}"
                f"&X-Amz-Signature={signature}")
    return url


@lru_cache(maxsize=8)
def _endpoint(endpoint):
    """(scheme, netloc, path prefix, signed Host) of an endpoint URL."""
    parts = urlsplit(endpoint)
    return parts.scheme, parts.netloc, parts.path.rstrip("/"), _signed_host(parts)


DEFAULT_PORTS = {"http": 80, "https": 443}


def _signed_host(parts):
    """The Host header a client sends to this endpoint: no user info, no default port."""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


@lru_cache(maxsize=8)
def _signing_key(secret_key, day, region):
    """SigV4's key for one day, region and service: four HMACs, once a day."""
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key
