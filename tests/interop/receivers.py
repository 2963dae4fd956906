"""Real local receivers for notification tests: an HTTP server that records every request
(webhooks, PagerDuty, Slack, OpsGenie, ...) and an SMTP server (aiosmtpd) that keeps every
message. Both listen on 127.0.0.1 at ports chosen by the test script, which gave the same ports
to `vigil serve` in its config file.
"""

import email
import email.policy
import http.server
import json
import threading
import time


class HttpRecorder:
    """Records requests as dicts: method, path, headers (lower-case names), body (text), json."""

    def __init__(self, port):
        self.requests = []
        self.lock = threading.Lock()
        # path -> list of status codes to answer in turn (then 200).
        self.script = {}
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("utf-8", "replace")
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                with recorder.lock:
                    recorder.requests.append({
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "json": parsed,
                    })
                    queue = recorder.script.get(self.path.split("?")[0])
                    status = queue.pop(0) if queue else 200
                answer = b"ok" if self.path.startswith("/slack") else b"{}"
                self.send_response(status)
                self.send_header("Content-Type",
                                 "text/plain" if self.path.startswith("/slack")
                                 else "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_PUT = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path, statuses):
        """The next requests to `path` are answered with `statuses`, in turn."""
        with self.lock:
            self.script[path] = list(statuses)

    def wait(self, predicate, timeout=20, what="a request"):
        """The requests so far once one matches `predicate`; fails after `timeout` s."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                got = [r for r in self.requests if predicate(r)]
            if got:
                return got
            time.sleep(0.1)
        with self.lock:
            seen = [(r["path"], r["body"][:200]) for r in self.requests]
        raise AssertionError("no %s within %s s; received %s" % (what, timeout, seen))

    def stop(self):
        self.server.shutdown()


class SmtpRecorder:
    """An aiosmtpd server keeping every message as an `email.message.EmailMessage`, with the
    envelope's recipients; rejects RCPT TO addresses listed in `refuse`."""

    def __init__(self, port):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.refuse = set()
        recorder = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in recorder.refuse:
                    return "550 5.1.1 mailbox unavailable"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                recorder.messages.append((list(envelope.rcpt_tos), envelope.mail_from, msg))
                return "250 Message accepted for delivery"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()

    def wait(self, predicate, timeout=20, what="a message"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = [m for m in self.messages if predicate(m)]
            if got:
                return got
            time.sleep(0.1)
        seen = [(m[0], str(m[2]["Subject"])) for m in self.messages]
        raise AssertionError("no %s within %s s; received %s" % (what, timeout, seen))

    def stop(self):
        self.controller.stop()
