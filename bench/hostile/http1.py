"""Raw HTTP/1.1 over asyncio sockets: one request per connection, from a chosen loopback source
address, with one deadline over connecting, sending and reading the answer.

Every request asks for `Connection: close`, so the server closes first and keeps the TIME_WAIT
state: a client that makes thousands of connections from one address does not run out of ports.
"""

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field

# Linux: the port is chosen at connect() from the whole 4-tuple, not at bind() from the address
# alone, so one source address can hold as many connections as there are ephemeral ports.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024


class Failure(Exception):
    """A request that got no HTTP answer: `label` says why (timeout, refused, reset, ...)."""

    def __init__(self, label):
        super().__init__(label)
        self.label = label


@dataclass
class Response:
    status: int
    headers: list = field(default_factory=list)
    body: bytes = b""

    def header_values(self, name):
        return [value for key, value in self.headers if key == name]

    def cookies(self):
        """name -> value of every Set-Cookie."""
        found = {}
        for value in self.header_values("set-cookie"):
            pair = value.split(";", 1)[0]
            if "=" in pair:
                key, val = pair.split("=", 1)
                found[key.strip()] = val.strip()
        return found

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def label(self):
        """`200`, or the status with the error's code and kind: `200 -32050 ServiceUnavailable`."""
        answer = self.json()
        error = answer.get("error") if isinstance(answer, dict) else None
        if not isinstance(error, dict):
            return str(self.status)
        kind = (error.get("data") or {}).get("kind", "")
        return f"{self.status} {error.get('code')} {kind}".strip()

    def ok(self):
        answer = self.json()
        return self.status == 200 and not (isinstance(answer, dict) and "error" in answer)


async def connect(source, server, timeout):
    """A non-blocking socket from `source` (an address) connected to `server` (host, port)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        sock.bind((source, 0))
        sock.setblocking(False)
        await asyncio.wait_for(loop.sock_connect(sock, server), timeout)
        return sock
    except BaseException:
        sock.close()
        raise


def failure_label(error):
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, ConnectionResetError):
        return "reset"
    if isinstance(error, OSError) and error.errno is not None:
        return f"os error {error.errno}"
    return type(error).__name__


async def _exchange(sock, raw):
    loop = asyncio.get_running_loop()
    await loop.sock_sendall(sock, raw)
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = await loop.sock_recv(sock, 65536)
        if not chunk:
            raise Failure("closed before answering" if not buffer else "closed mid-answer")
        buffer += chunk
        if len(buffer) > MAX_HEAD_BYTES:
            raise Failure("head too large")
    head, body = buffer.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise Failure("bad status line")
    headers = []
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers.append((key.strip().lower(), value.strip()))
    lengths = [int(v) for k, v in headers if k == "content-length" and v.isdigit()]
    chunked = any(k == "transfer-encoding" and "chunked" in v.lower() for k, v in headers)
    while True:
        if lengths and len(body) >= lengths[0]:
            body = body[: lengths[0]]
            break
        if chunked and body.endswith(b"0\r\n\r\n"):
            body = _dechunk(body)
            break
        chunk = await loop.sock_recv(sock, 65536)
        if not chunk:
            if lengths or chunked:
                raise Failure("closed mid-answer")
            break
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise Failure("body too large")
    return Response(int(parts[1]), headers, body)


def _dechunk(data):
    out, rest = b"", data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


async def request(server, source, method, path, body=None, cookies=None, timeout=5.0):
    """One request on a new connection; the answer, or `Failure` when none came in `timeout`."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {server[0]}:{server[1]}", "Connection: close"]
    payload = b""
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    if cookies:
        lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
    deadline = time.monotonic() + timeout
    sock = None
    try:
        sock = await connect(source, server, timeout)
        return await asyncio.wait_for(_exchange(sock, raw), max(0.001, deadline - time.monotonic()))
    except Failure:
        raise
    except (OSError, asyncio.TimeoutError, TimeoutError, ValueError) as error:
        raise Failure(failure_label(error)) from None
    finally:
        if sock is not None:
            sock.close()


def rpc_body(method, params=None):
    """The encoded JSON-RPC call: a client that sends one call many times encodes it once."""
    call = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        call["params"] = params
    return json.dumps(call).encode()


async def rpc(server, source, cookies, method, params=None, timeout=5.0):
    return await request(server, source, "POST", "/api/rpc", rpc_body(method, params), cookies, timeout)


async def timed(make_request):
    """(start, seconds, outcome, response): outcome is "ok", the answer's label or the failure's."""
    start = time.monotonic()
    try:
        response = await make_request()
    except Failure as failure:
        return start, time.monotonic() - start, failure.label, None
    outcome = "ok" if response.ok() else response.label()
    return start, time.monotonic() - start, outcome, response
