"""A scripted OpenAI-compatible server for tests (stdlib http.server, 127.0.0.1
only, a bounded number of requests).

Each request takes the next action of the script; when the script is empty the
server writes a plausible abstract that states the prompt's main findings (so
it aligns), with filler words drawn from the request's seed (so two answers are
not near-duplicates). Actions:

* ``("ok", text, finish_reason)``: a normal reply with that completion.
* ``("status", code)``: an HTTP error with a short body.
* ``("sleep", seconds)``: wait, then answer by default (a timeout for the client).
* ``("raw", body)``: send ``body`` as the 200 response (malformed JSON, wrong schema).
* ``("close",)``: close the connection without an answer.

With ``forget_unless=MARKER`` the default answer leaves the main findings out
(so it names no target entity) unless the prompt contains ``MARKER``: a repair
prompt carries it, so every key needs exactly one repair.

Run as a script (``python scripted_server.py PORTFILE DELAY MAX [MARKER]``) it
serves the default answer after ``DELAY`` seconds until ``MAX`` requests,
writing its port to ``PORTFILE``: the kill -9 tests use it from a separate
process.
"""

from __future__ import annotations

import json
import random
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FILLER = (
    "extracts fractions were purified by silica gel chromatography and preparative HPLC while structures followed from "
    "NMR HRESIMS ECD data cytotoxicity against cancer cell lines antimicrobial assays moderate weak strong activity "
    "inhibition enzyme biosynthetic pathway gene cluster metabolites culture broth fermentation ethyl acetate methanol "
    "roots leaves stems bark marine sponge fungus bacterium strain collected island coast forest season temperature "
    "spectroscopic analysis comparison literature values absolute configuration crystallography derivative analogue "
    "scaffold skeleton ring moiety substituent hydroxy methoxy glycoside aglycone sugar unit linkage rearranged"
).split()


def default_abstract(prompt_text: str, seed: int, forget: bool = False) -> str:
    m = re.search(r"Main findings: (.*?)(?:\nAbstract:|$)", prompt_text, re.S)
    findings = m.group(1).strip() if m and not forget else "Nothing was isolated."
    rng = random.Random(seed)

    def sentence(n: int) -> str:
        ws = [rng.choice(FILLER) for _ in range(n)]
        return ws[0].capitalize() + " " + " ".join(ws[1:]) + "."

    return " " + " ".join([sentence(14), sentence(12), findings, sentence(16), sentence(12)])


class ScriptedServer:
    def __init__(self, script: list[tuple] | None = None, *, max_requests: int = 500, delay: float = 0.0, forget_unless: str | None = None):
        self.script = list(script or [])
        self.forget_unless = forget_unless
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.max_requests = max_requests
        self.delay = delay
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def _send(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n) or b"{}")
                with owner._lock:
                    owner.requests.append(body)
                    owner.headers.append(dict(self.headers))
                    over = len(owner.requests) > owner.max_requests
                    action = owner.script.pop(0) if owner.script else None
                if over:
                    return self._send(503, b'{"error": "request budget of the test server exhausted"}')
                if owner.delay:
                    time.sleep(owner.delay)
                chat = self.path.endswith("/chat/completions")
                if action is not None and action[0] == "status":
                    return self._send(action[1], json.dumps({"error": f"scripted {action[1]}"}).encode())
                if action is not None and action[0] == "raw":
                    return self._send(200, action[1].encode() if isinstance(action[1], str) else action[1])
                if action is not None and action[0] == "close":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                if action is not None and action[0] == "sleep":
                    time.sleep(action[1])
                    action = None
                if action is not None and action[0] == "ok":
                    text, finish = action[1], action[2]
                else:
                    prompt = body["messages"][-1]["content"] if chat else body["prompt"]
                    forget = owner.forget_unless is not None and owner.forget_unless not in prompt
                    text, finish = default_abstract(prompt, int(body.get("seed") or 0), forget), "stop"
                choice = {"index": 0, "finish_reason": finish}
                if chat:
                    choice["message"] = {"role": "assistant", "content": text}
                else:
                    choice["text"] = text
                reply = {
                    "id": "x",
                    "object": "text_completion",
                    "model": body.get("model", "scripted"),
                    "choices": [choice],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 20},
                }
                return self._send(200, json.dumps(reply).encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":
    portfile, delay, max_req = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    srv = ScriptedServer(delay=delay, max_requests=max_req, forget_unless=sys.argv[4] if len(sys.argv) > 4 else None)
    with open(portfile + ".tmp", "w") as fh:
        fh.write(str(srv.port))
    import os

    os.replace(portfile + ".tmp", portfile)
    try:
        srv.httpd.serve_forever()
    finally:
        srv.httpd.server_close()
