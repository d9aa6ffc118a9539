"""A callback receiver for trying chargegate: prints each callback as one JSON line and answers
RECEIVER_STATUS.

    RECEIVER_STATUS=500          every delivery fails, to watch retries and dead letters
    CALLBACK_SIGNING_SECRET=...  the service's whsec_ secret(s): each line says whether the
                                 webhook-signature header verifies ("signature": "valid")
    RECEIVER_HOST, RECEIVER_PORT where to listen (default 0.0.0.0:9000)

Only the Python standard library, so it runs on Debian's python3 as it is.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os

STATUS = int(os.environ.get("RECEIVER_STATUS", "200"))
HOST = os.environ.get("RECEIVER_HOST", "0.0.0.0")
PORT = int(os.environ.get("RECEIVER_PORT", "9000"))
# Standard Webhooks keys: "whsec_" + base64; several separated by spaces or commas.
KEYS = [
    base64.b64decode(s[len("whsec_"):])
    for s in os.environ.get("CALLBACK_SIGNING_SECRET", "").replace(",", " ").split()
    if s.startswith("whsec_")
]


def signature_state(headers, body):
    """'valid' when one v1 signature matches one key, 'invalid' when none does, None unsigned."""
    sent = headers.get("webhook-signature")
    if not KEYS or sent is None:
        return None
    signed = f'{headers.get("webhook-id", "")}.{headers.get("webhook-timestamp", "")}.'.encode() + body
    expected = {base64.b64encode(hmac.new(k, signed, hashlib.sha256).digest()).decode() for k in KEYS}
    for part in sent.split():
        version, _, value = part.partition(",")
        if version == "v1" and any(hmac.compare_digest(value, e) for e in expected):
            return "valid"
    return "invalid"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as chargegate reuses connections

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()
                   if k.lower().startswith(("webhook-", "traceparent"))}
        line = {"path": self.path, "headers": headers, "body": body.decode(errors="replace")}
        state = signature_state(headers, body)
        if state is not None:
            line["signature"] = state
        print(json.dumps(line), flush=True)
        self.send_response(STATUS)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # one line per callback is enough
        pass


http.server.ThreadingHTTPServer((HOST, PORT), Handler).serve_forever()
