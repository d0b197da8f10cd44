"""The attacks of bench/robustness.sh against a running server, with memory sampled throughout.

Usage: python3 bench/robustness.py BASE_URL SERVER_PID DATABASE

Resident memory is the server's VmRSS, sampled every 20 ms; Postgres' memory is the private
(non-shared) memory of the database's backends, from /proc/<pid>/smaps_rollup. Only loopback
addresses are used, and every loop is bounded.
"""

import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.parse

BASE, SERVER_PID, DB = sys.argv[1], int(sys.argv[2]), sys.argv[3]
HOST = urllib.parse.urlparse(BASE)
USER, PWD = "robust1", "robust-password-1"
MIB = 1024 * 1024


def request(method, path, body=None, cookie=None, timeout=120):
    conn = http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=timeout)
    headers = {"content-type": "application/json"}
    if cookie:
        headers["cookie"] = cookie
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    result = (response.status, dict(response.getheaders()), data)
    conn.close()
    return result


def post(path, payload, cookie=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return request("POST", path, body, cookie)


def rpc(cookie, method, params, rid=1):
    status, _, body = post("/api/rpc", {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}, cookie)
    return status, json.loads(body) if body else None


def psql(sql):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB, "-Atc", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def backends_private_kib():
    total = 0
    pids = psql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{DB}' AND pid <> pg_backend_pid()")
    for pid in filter(None, pids.split()):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith(("Private_Clean:", "Private_Dirty:")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Sampler:
    """The server's peak VmRSS while a phase runs."""

    def __init__(self):
        self.peak = 0
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_kib(SERVER_PID))
            time.sleep(0.02)

    def stop(self):
        self.running = False
        self.thread.join()
        return self.peak


def concurrently(count, work):
    results = [None] * count

    def run(i):
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def settle(seconds=5):
    """Resident memory a few seconds after a burst (allocators return memory with a delay)."""
    time.sleep(seconds)
    return rss_kib(SERVER_PID)


def mib(kib):
    return f"{kib / 1024:.0f} MiB"


class Table(list):
    """Rows printed as they come, so a run that stops early still shows what it measured."""

    def append(self, row):
        super().append(row)
        print("| " + " | ".join(row) + " |", flush=True)


print("| attack | what the attacker got | memory | afterwards |")
print("|---|---|---|---|", flush=True)
rows = Table()

post("/api/signup", {"username": USER, "pwd": PWD})
status, headers, _ = post("/api/login", {"username": USER, "pwd": PWD})
cookie = headers["set-cookie"].split(";")[0]
_, created = rpc(cookie, "create_project", {"data": {"name": "wide"}})
project_id = created["result"]["data"]["id"]

# 1,000 tasks with 10,000 control characters each: 60 KB of JSON per task once escaped.
psql(f"""INSERT INTO task (project_id, title, description, cid, ctime, mid, mtime)
         SELECT {project_id}, 'wide ' || i, repeat(chr(1), 10000), p.owner_id, now(), p.owner_id, now()
         FROM project p, generate_series(1, 1000) AS i WHERE p.id = {project_id}""")
rpc(cookie, "list_tasks", {"list_options": {"limit": 10}})
idle = settle(2)
rows.append(("idle", "-", mib(idle), "-"))

# -- Wide answers: 4 concurrent batches of 20 list_tasks. With limit 1000 every result (60 MB)
# is past MAX_ANSWER_BYTES on its own; with limit 250 (15 MB) each batch's first call fits.
for limit in (1000, 250):
    batch = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "list_tasks",
                         "params": {"list_options": {"limit": limit}}} for i in range(20)]).encode()
    base = settle(1)
    sampler = Sampler()
    answers = concurrently(4, lambda _: post("/api/rpc", batch, cookie))
    peak = sampler.stop()
    after = settle()
    codes = [r.get("error", {}).get("code") for _, _, body in answers for r in json.loads(body)]
    sizes = ", ".join(f"{len(body) / MIB:.1f}" for _, _, body in answers)
    rows.append((f"4 concurrent batches of 20 wide list_tasks, limit {limit}",
                 f"answers {sizes} MiB; of 80 calls {codes.count(None)} answered, "
                 f"{codes.count(-32010)} -32010, {codes.count(-32029)} -32029 (the user's share in flight)",
                 f"peak +{mib(peak - base)}", f"after 5 s +{mib(after - base)}"))

# -- Decoding bombs: an unexpected member carrying {"": 0} objects, just under 1 MiB.
def bomb(count):
    return '{"x":[' + ",".join(['{"":0}'] * count) + "]}"

single = ('{"jsonrpc":"2.0","id":1,"method":"count_tasks","params":' + bomb(149_000) + "}").encode()
entry = '{"jsonrpc":"2.0","id":%d,"method":"count_tasks","params":{}}'
batched = ("[" + ",".join(entry % i for i in range(98)) + ',{"jsonrpc":"2.0","id":99,"method":"count_tasks","params":'
           + bomb(148_000) + "}]").encode()
assert len(single) < MIB and len(batched) < MIB, (len(single), len(batched))
base = settle(1)
sampler = Sampler()
bombs = concurrently(16, lambda i: post("/api/rpc", single if i % 2 == 0 else batched, cookie))
peak = sampler.stop()
after = settle()
codes = sorted({(status, json.loads(body)[-1]["error"]["code"] if body.startswith(b"[") else json.loads(body)["error"]["code"])
                for status, _, body in bombs})
rows.append(("16 concurrent 1 MiB decoding bombs", f"answers {codes}",
             f"peak +{mib(peak - base)}", f"after 5 s +{mib(after - base)}"))

# -- The same bombs against /api/login, which needs no account.
login_bomb = ('{"username":"robust1","pwd":"x","x":' + bomb(148_000)[5:-1] + "}").encode()
assert len(login_bomb) < MIB, len(login_bomb)
base = settle(1)
sampler = Sampler()
bombs = concurrently(16, lambda _: post("/api/login", login_bomb))
peak = sampler.stop()
after = settle()
statuses = sorted({status for status, _, _ in bombs})
rows.append(("16 concurrent 1 MiB decoding bombs on /api/login (no account)", f"HTTP {statuses}",
             f"peak +{mib(peak - base)}", f"after 5 s +{mib(after - base)}"))

# -- Query shapes: 28 count_tasks whose $notContainsAny lists differ by one value.
before_pg = backends_private_kib()
words = [f"word{n:05d}" for n in range(1000)]
shapes = []
for shape in range(28):
    values = words[: 972 + shape]
    status, answer = rpc(cookie, "count_tasks", {"filters": {"title": {"$notContainsAny": values}}})
    shapes.append("result" in answer)
time.sleep(1)
after_pg = backends_private_kib()
rows.append(("28 distinct query shapes (count_tasks, ~30 KB each)", f"{sum(shapes)} of 28 answered",
             f"Postgres backends {mib(before_pg)} -> {mib(after_pg)}", f"+{mib(after_pg - before_pg)}"))

# -- Requests that crashed or hurt the server before.
groups = [{"done": {}}] * 15_000
status, answer = rpc(cookie, "count_tasks", {"filters": groups})
alive = request("GET", "/health/live")[0]
rows.append(("count_tasks with 15,000 empty groups", f"HTTP {status}, {answer['error']['code']} {answer['error']['data']['kind']}",
             f"health {alive}", "-"))
status, answer = rpc(cookie, "list_tasks", {"filters": {"ctime": {"$gt": "9999-12-31T23:59:59-23:59"}}})
rows.append(("list_tasks with a time out of range", f"HTTP {status}, {answer['error']['code']}",
             answer["error"]["data"].get("detail", ""), "-"))
status, _, _ = request("GET", "/" + "a" * 256)
rows.append(("GET / + 256 characters", f"HTTP {status}", "-", "-"))
status, headers, _ = request("GET", "//js")
rows.append(("GET //js", f"HTTP {status}", f"location {headers.get('location', '-')}", "-"))
