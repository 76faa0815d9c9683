"""Exception texts made fit for a log: no presigned query strings, no coordinates.

What a failure records on a photo or a delivery is a stable short sentence; the
exception's own text goes to the log only, through `redact`, because it may carry
a presigned URL's signature (a botocore error quotes the URL), a receiver's
query string, or the GPS position of a roof (a geocoder error quotes the point).
"""
import re

# A URL's query string: from `?` to the next blank, quote or bracket.
QUERY = re.compile(r"(\w+://[^\s?'\"<>]*)\?[^\s'\"<>)\]]*")
# A query string after a bare path (`url: /hooks?token=…`, as requests quotes one).
PATH_QUERY = re.compile(r"(/[^\s?'\"<>]*)\?[^\s=&'\"<>)\]]+=[^\s'\"<>)\]]*")
# A decimal number with four or more decimals (about 11 m of latitude): a coordinate.
COORDINATE = re.compile(r"(?<![\w.])[-+]?\d{1,3}\.\d{4,}(?![\w.])")
#: What stands where something was taken out.
REDACTED = "[redacted]"


def redact(text):
    """`text` with URLs' query strings and coordinates replaced by `[redacted]`."""
    text = QUERY.sub(rf"\1?{REDACTED}", str(text))
    text = PATH_QUERY.sub(rf"\1?{REDACTED}", text)
    return COORDINATE.sub(REDACTED, text)


def redacted_error(error):
    """`Type: message` of an exception, redacted, for a log line."""
    return redact(f"{type(error).__name__}: {error}")
