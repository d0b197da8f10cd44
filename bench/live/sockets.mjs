// The WebSocket side of the load tool: one socket opened as a browser would, the subscriber (one
// socket subscribed to one project's tasks) with its RPC calls, the shared notification counters,
// and opening, subscribing and closing the whole set of sockets (deliver.mjs and hold.mjs).
import fs from 'node:fs';
import WebSocket from 'ws';
import {
  BASE, WS_URL, STATE, SOCKETS, PER_USER, ADDRS, OPEN_CONCURRENCY, TIMEOUT_MS, log, nowMs, pool,
} from './lib.mjs';

// The i-th source address: 127.10.y.z, z in 1..250, so every address is a plain host address.
const sourceAddr = (k) => `127.10.${Math.floor(k / 250)}.${(k % 250) + 1}`;

// Opens one socket as a browser would: the session cookie, a same-origin Origin, the
// permessage-deflate offer browsers make. Resolves the ws; rejects with .status on a refused upgrade.
export function openSocket(cookie, localAddress, { origin = BASE, onMessage } = {}) {
  return new Promise((resolve, reject) => {
    const headers = cookie ? { cookie } : {};
    const ws = new WebSocket(WS_URL, { headers, origin, localAddress, handshakeTimeout: TIMEOUT_MS });
    ws.on('unexpected-response', (req, res) => {
      const err = new Error(`upgrade refused: HTTP ${res.statusCode}`);
      err.status = res.statusCode;
      res.resume();
      req.destroy();
      reject(err);
    });
    ws.on('error', (e) => reject(e));
    ws.on('open', () => resolve(ws));
    if (onMessage) ws.on('message', onMessage);
  });
}

// A subscriber: one socket of one user, subscribed to one project's tasks.
class Sub {
  constructor(i, user, project) {
    Object.assign(this, { i, user, project, ws: null, subId: null, closed: null, nextId: 1, pending: new Map() });
    this.lastSeq = new Map(); // task id -> the last write's sequence number seen for it
  }

  async open(onChanged) {
    this.ws = await openSocket(this.user.cookie, sourceAddr(this.i % ADDRS), {
      onMessage: (data) => {
        const t = nowMs();
        let msg;
        try { msg = JSON.parse(data.toString()); } catch { stats.garbled++; return; }
        if (msg && msg.method === 'changed') return onChanged(this, msg.params, t);
        const p = msg && this.pending.get(msg.id);
        if (!p) { stats.strayAnswers++; return; }
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        p.resolve(msg);
      },
    });
    this.ws.on('error', () => {});
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString(), at: nowMs() };
      for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error(`closed ${code}`)); }
      this.pending.clear();
    });
  }

  call(method, params) {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`${method}: no answer within ${TIMEOUT_MS} ms`)); }, TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  async subscribe() {
    const a = await this.call('subscribe', { entity: 'task', filters: { project_id: this.project.id } });
    const s = a.result?.data?.subscription;
    if (typeof s !== 'string') throw new Error(`subscribe answered ${JSON.stringify(a).slice(0, 300)}`);
    this.subId = s;
  }

  close() {
    return new Promise((resolve) => {
      if (!this.ws || this.ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(() => { this.ws.terminate(); resolve(); }, 5000);
      this.ws.once('close', () => { clearTimeout(timer); resolve(); });
      this.ws.close(1000);
    });
  }
}

export const stats = {
  notifications: 0, garbled: 0, strayAnswers: 0, duplicates: 0, wrongSubscription: 0, wrongProject: 0,
  wrongOp: 0, unknownRow: 0, forFailedWrites: 0, outOfOrder: 0, malformed: 0,
};

export function loadState() {
  return JSON.parse(fs.readFileSync(STATE, 'utf8'));
}

// Socket i belongs to user floor(i / PER_USER) and subscribes to that user's project.
export function makeSubs(state) {
  const subs = [];
  for (let i = 0; i < SOCKETS; i++) {
    const user = state.users[Math.floor(i / PER_USER)];
    subs.push(new Sub(i, user, state.projects[user.project]));
  }
  return subs;
}

// Opens and subscribes every socket, OPEN_CONCURRENCY at a time; throws with the first refusal.
export async function openAll(subs, onChanged) {
  const t0 = nowMs();
  const failures = [];
  await pool(subs, OPEN_CONCURRENCY, async (s) => {
    if (failures.length) return;
    try {
      await s.open(onChanged);
      await s.subscribe();
    } catch (e) {
      failures.push(`socket ${s.i} (user ${s.user.username}, ${sourceAddr(s.i % ADDRS)}): ${e.message}`);
    }
  });
  if (failures.length) throw new Error(`opening the sockets failed: ${failures.slice(0, 5).join('; ')}`);
  const extensions = [...new Set(subs.map((s) => s.ws.extensions || 'none'))].join(', ');
  log(`${subs.length} sockets open and subscribed in ${((nowMs() - t0) / 1000).toFixed(1)} s (extensions: ${extensions})`);
  return extensions;
}

export async function closeAll(subs) {
  await pool(subs, 200, (s) => s.close());
}
