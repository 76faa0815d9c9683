"""Receivers that misbehave: a raw TCP server on 127.0.0.1 whose connections follow a
style. Most never finish: they send a byte every `pace` seconds (shorter than any
socket timeout, so only a deadline on the whole attempt ends them) until the sender
hangs up.

Styles:
- "status": reads the request, then drips the status line and headers, for ever;
- "headers": reads the request, sends the status line, then drips header bytes;
- "body": reads the request, sends complete headers (200, a long Content-Length),
  then drips the body;
- "silent": accepts and never reads nor sends (a large request body fills the
  buffers, and the sender blocks on send);
- "tls": reads the ClientHello, then drips a TLS record that never completes;
- "second": answers the first request on a connection at once (keep-alive), then
  drips the status line of the second;
- "garbage": reads the request, answers something that is not HTTP, hangs up;
- "hangup": reads the request and hangs up without a word;
- "untrusted": TLS with a self-signed certificate, which no sender trusts.
"""
import ipaddress
import socket
import ssl
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FAST_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
STATUS = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000
HEADERS = b"HTTP/1.1 200 OK\r\n"
BODY_HEADERS = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"
# A TLS handshake record announcing 16 KB that never all arrive.
TLS_RECORD = b"\x16\x03\x03\x40\x00"


class RawReceiver:
    """`RawReceiver(style, pace)`; `url(scheme)`, `connections` (accepted so far),
    `open` (not yet hung up on), `requests` (request heads read), `close()`."""

    def __init__(self, style, pace=0.3):
        self.style, self.pace = style, pace
        self.connections, self.open, self.requests = 0, 0, []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        if style == "silent":  # small buffers: the sender blocks after a few hundred KB
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.listener.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, scheme="http"):
        return f"{scheme}://127.0.0.1:{self.listener.getsockname()[1]}/hooks"

    def close(self):
        self.stopped.set()
        self.thread.join(5)
        self.listener.close()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with self.lock:
                self.connections += 1
                self.open += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection):
        with connection:
            try:
                getattr(self, f"_{self.style}")(connection)
            except OSError:
                pass  # the sender hung up: what the test waits for
            finally:
                with self.lock:
                    self.open -= 1

    def _status(self, connection):
        self._read_request(connection)
        self._drip(connection, STATUS)

    def _headers(self, connection):
        self._read_request(connection)
        connection.sendall(HEADERS)
        self._drip(connection, STATUS[len(HEADERS):])

    def _body(self, connection):
        self._read_request(connection)
        connection.sendall(BODY_HEADERS)
        self._drip(connection, b"x" * 1_000_000)

    def _silent(self, connection):
        self.stopped.wait()

    def _tls(self, connection):
        connection.recv(65536)  # the ClientHello
        connection.sendall(TLS_RECORD)
        self._drip(connection, b"\x00" * 0x4000)

    def _second(self, connection):
        self._read_request(connection)
        connection.sendall(FAST_REPLY)
        self._read_request(connection)
        self._drip(connection, STATUS)

    def _garbage(self, connection):
        self._read_request(connection)
        connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    def _hangup(self, connection):
        self._read_request(connection)

    def _untrusted(self, connection):
        with self_signed_context().wrap_socket(connection, server_side=True) as tls:
            self._read_request(tls)

    def _read_request(self, connection):
        """The request's head and its Content-Length of body."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionResetError("the sender hung up")
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        self.requests.append(head)
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionResetError("the sender hung up")
            body += chunk

    def _drip(self, connection, data):
        """One byte every `pace` seconds until the sender hangs up (or the data ends,
        which no test waits for)."""
        for byte in data:
            if self.stopped.wait(self.pace):
                return
            connection.sendall(bytes([byte]))
        self.stopped.wait()


def self_signed_context():
    """A TLS server context with a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as directory:
        cert_path, key_path = Path(directory) / "cert.pem", Path(directory) / "key.pem"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context.load_cert_chain(cert_path, key_path)
    return context
