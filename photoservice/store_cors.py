"""The store's CORS rule: which pages may send files straight to the bucket.

A page uploads with the presigned POST (or, past 100 MB, presigned PUTs of parts) and
shows thumbnails by URL, so the bucket must answer those origins' preflights: the API's
CORS_ORIGINS plus the origin that serves /app/ (PUBLIC_URL). ETag is exposed because a
multipart upload reads each part's ETag to complete it. Plain values only: the dev
store (devstack) and `flask apply-bucket-cors` build the same rule from here.
"""

METHODS = ["GET", "HEAD", "POST", "PUT"]
#: How long a browser may reuse the store's preflight answer.
MAX_AGE_SECONDS = 3000


def store_origins(cors_origins, public_url):
    """The origins the bucket admits: `cors_origins` (["*"] or exact ones) and `public_url`'s."""
    if "*" in cors_origins:
        return ["*"]
    return list(dict.fromkeys(origin for origin in [*cors_origins, public_url.rstrip("/")] if origin))


def bucket_cors(origins):
    """The CORSConfiguration of S3's PutBucketCors for `origins`."""
    return {"CORSRules": [{
        "AllowedOrigins": list(origins),
        "AllowedMethods": METHODS,
        "AllowedHeaders": ["*"],  # the policy's form fields travel in the body, not headers
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": MAX_AGE_SECONDS,
    }]}
