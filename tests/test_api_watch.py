"""flows.api_watch: a Prefect API that stops answering is noticed after `lost_after_s`, one that answers never is.
(The whole story, with a real server killed mid-run, is tests/test_server_loss.py.)"""
import http.server
import socket
import threading
import time

from flows.api_watch import ApiWatch, api_reachable


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.send_response(200 if self.path.endswith("/health") else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args):
        pass


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again at once: nothing listens there


def test_a_server_that_answers_is_never_lost_and_one_that_stops_is():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}/api"
    calls: list[str] = []
    try:
        assert api_reachable(api)
        with ApiWatch(api, lost_after_s=0.3, on_lost=calls.append, every_s=0.05, exit_process=False) as watch:
            time.sleep(0.6)
            assert not calls and not watch.lost.is_set()
            server.shutdown()
            server.server_close()  # the server goes away mid-run
            deadline = time.time() + 10
            while not calls and time.time() < deadline:
                time.sleep(0.05)
        assert watch.lost.is_set() and len(calls) == 1 and "unreachable" in calls[0]
    finally:
        server.server_close()


def test_nothing_listening_is_unreachable_and_no_url_starts_no_watch():
    assert not api_reachable(f"http://127.0.0.1:{_closed_port()}/api", timeout_s=1)
    assert not api_reachable("not a url")
    with ApiWatch(None, 0.01, lambda why: None, every_s=0.01, exit_process=False) as watch:
        time.sleep(0.05)
    assert not watch.lost.is_set()
