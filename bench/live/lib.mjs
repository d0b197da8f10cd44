// Shared by every mode of the load tool (live.mjs): the settings read from the environment (with
// their defaults), the log, the sub-millisecond wall clock, HTTP (POST, JSON-RPC calls and
// batches), the bounded pool, and sign-up/login with the session cookie.
import http from 'node:http';

const env = (name, fallback) => process.env[name] ?? fallback;
const num = (name, fallback) => {
  const v = Number(env(name, fallback));
  if (!Number.isFinite(v)) throw new Error(`${name} is not a number`);
  return v;
};

export const BASE = env('LIVE_BASE', 'http://127.0.0.1:8730');
export const WS_URL = BASE.replace(/^http/, 'ws') + '/api/ws';
export const STATE = env('LIVE_STATE', 'target/bench/live-state.json');
export const OUT = env('LIVE_OUT', 'target/bench/live-results.json');
export const SERVER_PID = env('LIVE_SERVER_PID', '');
const PWD = env('LIVE_PWD', 'live-password-1');
export const SOCKETS = num('LIVE_SOCKETS', 1000);
export const PER_USER = num('LIVE_SOCKETS_PER_USER', 8);
export const USERS_PER_PROJECT = num('LIVE_USERS_PER_PROJECT', 5);
export const ADDRS = num('LIVE_ADDRS', 250);
export const RATE = num('LIVE_RATE', 200);
export const SECONDS = num('LIVE_SECONDS', 30);
export const IDLE_SECONDS = num('LIVE_IDLE_SECONDS', 5);
export const DRAIN_SECONDS = num('LIVE_DRAIN_SECONDS', 10);
export const SETTLE_SECONDS = num('LIVE_SETTLE_SECONDS', 15);
export const TASKS_PER_PROJECT = num('LIVE_TASKS_PER_PROJECT', 20);
export const MAX_INFLIGHT = num('LIVE_MAX_INFLIGHT', 64);
export const HOLD_MAX_SECONDS = num('LIVE_HOLD_MAX_SECONDS', 600);
export const OPEN_CONCURRENCY = num('LIVE_OPEN_CONCURRENCY', 50);
export const TIMEOUT_MS = num('LIVE_TIMEOUT_MS', 30000); // one HTTP request, one upgrade, one RPC answer
export const SETUP_CONCURRENCY = num('LIVE_SETUP_CONCURRENCY', 4);

export const log = (...args) => console.error('live:', ...args);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- clock: wall-clock milliseconds with sub-millisecond resolution ----------------------------
// Date.now() ticks in whole milliseconds, too coarse for deliveries of about a millisecond; the
// monotonic clock is anchored once at a tick of Date.now() (the same CLOCK_REALTIME Postgres'
// now() reads, so `mtime` and receipt times compare directly).
const anchor = (() => {
  const start = Date.now();
  for (let i = 0; i < 50_000_000; i++) {
    const t = Date.now();
    if (t !== start) return { wall: t, hr: process.hrtime.bigint() };
  }
  return { wall: Date.now(), hr: process.hrtime.bigint() };
})();
export const nowMs = () => anchor.wall + Number(process.hrtime.bigint() - anchor.hr) / 1e6;

// RFC 3339 with up to nanoseconds ("2026-11-22T22:50:31.824897Z") to epoch milliseconds.
export function timeMs(s) {
  const m = typeof s === 'string' && /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return NaN;
  return Date.parse(m[1] + m[3]) + (m[2] ? Number('0.' + m[2]) * 1000 : 0);
}

// ---- HTTP ---------------------------------------------------------------------------------------
export const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_INFLIGHT });

// POST JSON; resolves {status, headers, body, tResp} (tResp: when the answer's head arrived, the
// earliest moment the client knows the write committed). Never rejects: a failure is status 0.
export function post(path, payload, cookie) {
  return new Promise((resolve) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (cookie) headers.cookie = cookie;
    let done = false;
    const finish = (r) => { if (!done) { done = true; resolve(r); } };
    const req = http.request(BASE + path, { method: 'POST', agent, headers }, (res) => {
      const tResp = nowMs();
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(), tResp }));
      res.on('error', (e) => finish({ status: 0, error: String(e), tResp }));
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', (e) => finish({ status: 0, error: String(e), tResp: nowMs() }));
    req.end(body);
  });
}

// One JSON-RPC call ([method, params]) over POST /api/rpc; throws unless it answers a result.
export async function rpc(cookie, call) {
  return (await rpcBatch(cookie, [call], false))[0];
}

// A batch of calls in one request; the results in call order; throws unless each is a result.
export async function rpcBatch(cookie, calls, asBatch = true) {
  const list = calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: i + 1, method, params }));
  const r = await post('/api/rpc', asBatch ? list : list[0], cookie);
  if (r.status !== 200) throw new Error(`${list[0].method}: HTTP ${r.status} ${r.error ?? r.body.slice(0, 300)}`);
  const answers = [].concat(JSON.parse(r.body));
  for (const a of answers) if (!a.result) throw new Error(`${list[0].method}: ${JSON.stringify(a).slice(0, 300)}`);
  answers.sort((a, b) => a.id - b.id);
  return answers.map((a) => a.result);
}

// Runs fn over items, at most n at once.
export async function pool(items, n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

// Sign-up or login, retried (at most 5 times) after a 429's retry_after_ms when it is short.
export async function account(path, username) {
  for (let attempt = 1; ; attempt++) {
    const r = await post(path, { username, pwd: PWD });
    if (r.status === 200) return r;
    let wait = NaN;
    try { wait = JSON.parse(r.body).error.data.retry_after_ms; } catch { /* not a throttle */ }
    if (r.status !== 429 || attempt >= 5 || !(wait <= 5000)) {
      throw new Error(`${path} ${username}: HTTP ${r.status} ${r.error ?? r.body.slice(0, 300)}`);
    }
    await sleep(wait + 50);
  }
}

export function sessionCookie(headers) {
  for (const c of [].concat(headers['set-cookie'] ?? [])) {
    const m = /^(auth-token=[^;]+)/i.exec(c);
    if (m) return m[1];
  }
  throw new Error('login answered no auth-token cookie');
}
