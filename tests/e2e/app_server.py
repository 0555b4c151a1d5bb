"""A client application's web server for browser tests: it serves the app's pages
(the redirect URI among them) and, like the seed's Express back end or a
same-origin deployment, proxies /oauth/* and /api/* to the authorization server."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

PROXIED = ("/oauth/", "/api/")
FORWARDED_HEADERS = ("content-type", "authorization", "dpop", "accept")


class AppServer:
    def __init__(self, pages: Mapping[str, tuple[str, bytes]], upstream: str):
        self.pages = dict(pages)  # path -> (content type, body)
        self.upstream = urlsplit(upstream)
        self.requests: list[str] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                path = self.path.split("?")[0]
                app.requests.append(f"{self.command} {path}")
                if path.startswith(PROXIED):
                    return self._proxy()
                content_type, body = app.pages.get(path, app.pages.get("*", ("text/plain", b"")))
                self.send_response(200 if body or path in app.pages else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _proxy(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED_HEADERS}
                upstream = http.client.HTTPConnection(
                    app.upstream.hostname, app.upstream.port, timeout=30
                )
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_DELETE = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
