"""A callback receiver for trying chargegate: prints each callback and answers RECEIVER_STATUS.

RECEIVER_STATUS=500 makes every delivery fail, to watch retries and dead letters.
"""
import http.server
import json
import os

STATUS = int(os.environ.get("RECEIVER_STATUS", "200"))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k: v for k, v in self.headers.items() if k.lower().startswith(("webhook-", "traceparent"))}
        print(json.dumps({"path": self.path, "headers": headers, "body": body.decode(errors="replace")}), flush=True)
        self.send_response(STATUS)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # one line per callback is enough
        pass


http.server.ThreadingHTTPServer(("0.0.0.0", 9000), Handler).serve_forever()
