"""A collector that takes OTLP/HTTP exports and throws them away: the far end of the trace
export for bench/traces.sh, so that exporting costs the server what it costs, not a failure.

    python3 bench/otlp-sink.py PORT      # answers 200 to every POST, counts the bytes
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    # Keeps connections open between exports, as a collector does.
    protocol_version = "HTTP/1.1"
    received = 0

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        Sink.received += len(self.rfile.read(length))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    import signal

    def stop(*_):
        print(f"otlp-sink: {Sink.received} bytes received", file=sys.stderr)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
