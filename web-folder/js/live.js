// Live updates: the page's one WebSocket to /api/ws. This module owns that socket, the JSON-RPC
// requests sent on it and their answers, and the views' subscriptions. A view calls
// `live.watch(entity, filters, {onChange, onRelist})` and gets back the function that stops
// watching; `onChange(op, row)` gets each `changed` notification, `onRelist()` is asked to list
// again whenever changes may have been missed: once the subscription is live (a change between
// the view's first list and the subscription), and after every reconnect.
// A dropped socket (network, server restart, 1013: the server could not keep up) is reconnected
// with back-off (0.5 s doubling up to 10 s, with jitter) and its subscriptions are made again.
// A 1008 close (the socket's session ended) asks /api/rpc who is signed in: a 401 there takes the
// app to the login view; an answer means the browser holds a newer session (a password change in
// another tab replaced the old one), so the socket connects again after the back-off. The page's
// own password change closes the socket first (`whileSessionReplaced`). The socket is opened with
// the first watcher and kept while the page lives.

import { rpc, RpcError } from './rpc.js';

/** @typedef {import('../../clients/ts/src/api.gen.js').Project} Project */
/** @typedef {import('../../clients/ts/src/api.gen.js').Task} Task */
/** @typedef {import('../../clients/ts/src/api.gen.js').ProjectFilter} ProjectFilter */
/** @typedef {import('../../clients/ts/src/api.gen.js').TaskFilter} TaskFilter */

/**
 * What a change of each entity carries, and what filters its subscription.
 * @typedef {{project: {row: Project, filters: ProjectFilter}, task: {row: Task, filters: TaskFilter}}} Entities
 */
/** @typedef {keyof Entities} Entity */
/** @typedef {'create'|'update'|'delete'} Op */

// The socket's messages: `subscribe` and `unsubscribe` are not in the generated API types.
/**
 * @typedef {{code: number, message: string, data?: {kind?: string, detail?: string}}} ErrorObject
 * @typedef {{jsonrpc: '2.0', id: number|null, result?: unknown, error?: ErrorObject}} Answer
 * @typedef {{subscription: string, op: Op, data: Project|Task}} ChangedParams
 * @typedef {{jsonrpc: '2.0', method: 'changed', params: ChangedParams}} Changed
 * @typedef {{entity: Entity, filters?: ProjectFilter|TaskFilter}} SubscribeParams
 * @typedef {{data: {subscription: string}}} SubscribeResult
 * @typedef {{subscription: string}} UnsubscribeParams
 */

/**
 * A view's subscription, and its id on the current socket (null: not subscribed on it).
 * @typedef {object} Watcher
 * @property {Entity} entity
 * @property {ProjectFilter|TaskFilter} [filters]
 * @property {(op: Op, row: any) => void} onChange
 * @property {() => void} onRelist
 * @property {string|null} sub
 */

/**
 * What a view passes to `watch`.
 * @template {Entity} E
 * @typedef {{onChange: (op: Op, row: Entities[E]['row']) => void, onRelist: () => void}} Callbacks
 */

const SESSION_ENDED = 1008;
const NORMAL = 1000;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
// A socket that stayed open this long was a working one: the next drop starts back-off afresh.
const STABLE_MS = 10_000;

function socketUrl() {
  return `${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/api/ws`;
}

export class Live {
  constructor(url = socketUrl) {
    /** @type {() => string} */
    this.url = url;
    /** @type {WebSocket|null} */
    this.ws = null;
    /** @type {Set<Watcher>} */
    this.watchers = new Set();
    /** @type {Map<string, Watcher>} the server's subscription id → its watcher, on the current socket */
    this.bySub = new Map();
    /** @type {Map<number, {resolve: (result: any) => void, reject: (err: RpcError) => void}>} */
    this.pending = new Map();
    this.nextId = 1;
    this.attempt = 0; // drops in a row: the back-off's exponent
    this.openedAt = 0;
    /** @type {ReturnType<typeof setTimeout>|null} */
    this.timer = null; // the next reconnect
    this.stopped = false;
    // Back online: no need to wait out the back-off.
    window.addEventListener('online', () => {
      if (this.timer === null) return;
      clearTimeout(this.timer);
      this.timer = null;
      this.connect();
    });
  }

  /**
   * Get the changes of `entity` rows matching `filters` (all the caller may see when undefined).
   * @template {Entity} E
   * @param {E} entity
   * @param {Entities[E]['filters']|undefined} filters
   * @param {Callbacks<E>} callbacks
   * @returns {() => void} stops watching
   */
  watch(entity, filters, { onChange, onRelist }) {
    /** @type {Watcher} */
    const w = { entity, filters, onChange, onRelist, sub: null };
    this.watchers.add(w);
    if (this.stopped) {
      // A new view after the session ended: a new session, so connect afresh.
      this.stopped = false;
      this.attempt = 0;
    }
    if (this.ws?.readyState === WebSocket.OPEN) this.subscribe(w, this.ws);
    else this.connect();
    return () => this.unwatch(w);
  }

  /** @param {Watcher} w */
  unwatch(w) {
    if (!this.watchers.delete(w) || w.sub === null) return;
    this.bySub.delete(w.sub);
    this.request('unsubscribe', /** @type {UnsubscribeParams} */ ({ subscription: w.sub })).catch(() => {});
    w.sub = null;
  }

  /** Close the socket and do not reconnect until the next `watch` (logging off). */
  stop() {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.forget();
    ws?.close(NORMAL);
  }

  /**
   * Run `call`, which replaces the session (`change_pwd`), with the socket closed: the server
   * would close it as 1008 once the old session is gone, maybe before the new cookie has arrived.
   * Connects again afterwards, with whatever session the browser then holds.
   * @template T
   * @param {() => Promise<T>} call
   * @returns {Promise<T>}
   */
  async whileSessionReplaced(call) {
    this.stop();
    try {
      return await call();
    } finally {
      this.stopped = false;
      this.attempt = 0;
      this.connect();
    }
  }

  connect() {
    if (this.ws || this.timer !== null || this.stopped || this.watchers.size === 0) return;
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.retry(); // e.g. refused by the page's Content-Security-Policy
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      if (ws !== this.ws) return;
      opened = true;
      this.openedAt = Date.now();
      for (const w of this.watchers) this.subscribe(w, ws);
    });
    ws.addEventListener('message', (ev) => {
      if (ws === this.ws) this.receive(ev.data);
    });
    ws.addEventListener('close', (ev) => {
      if (ws !== this.ws) return; // stopped, or replaced
      this.forget();
      if (opened && Date.now() - this.openedAt >= STABLE_MS) this.attempt = 0;
      // Closed because its session ended, or refused at the upgrade (maybe a 401): whether the
      // browser still has a session is for /api/rpc to say. Any other drop is retried.
      if (ev.code === SESSION_ENDED || !opened) this.retryIfSignedIn();
      else this.retry();
    });
  }

  /**
   * Ask /api/rpc who is signed in: a 401 reaches the app through the rpc client (the login view)
   * and stops the socket; an answer (the browser holds a newer session than the socket's, e.g.
   * from a password change in another tab), or a failure to ask, is a drop like any other.
   */
  async retryIfSignedIn() {
    try {
      await rpc.call('get_me');
    } catch (err) {
      if (err instanceof RpcError && err.kind === 'Unauthorized') {
        this.stopped = true;
        return;
      }
    }
    if (!this.stopped) this.retry();
  }

  /** Reconnect after a back-off: 0.5 s doubling up to 10 s, each a random time in its upper half. */
  retry() {
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  /** The socket is gone: fail what waits for an answer, and forget its subscriptions. */
  forget() {
    this.ws = null;
    for (const { reject } of this.pending.values()) {
      reject(new RpcError({ kind: 'NetworkError', message: 'the live socket closed' }));
    }
    this.pending.clear();
    this.bySub.clear();
    for (const w of this.watchers) w.sub = null;
  }

  /**
   * Subscribe `w` on `ws`, then have it list again.
   * @param {Watcher} w
   * @param {WebSocket} ws
   */
  async subscribe(w, ws) {
    /** @type {SubscribeParams} */
    const params = { entity: w.entity };
    if (w.filters !== undefined) params.filters = w.filters;
    /** @type {SubscribeResult} */
    let res;
    try {
      res = /** @type {SubscribeResult} */ (await this.request('subscribe', params));
    } catch (err) {
      // A closed socket subscribes again on the next; a refusal (too many subscriptions) stays.
      if (ws === this.ws) console.warn('live: subscribe refused', err);
      return;
    }
    const sub = res.data.subscription;
    if (ws !== this.ws) return;
    if (!this.watchers.has(w)) {
      // The view went away while subscribing.
      this.request('unsubscribe', /** @type {UnsubscribeParams} */ ({ subscription: sub })).catch(() => {});
      return;
    }
    w.sub = sub;
    this.bySub.set(sub, w);
    w.onRelist();
  }

  /**
   * Send one request on the socket; resolves to its result, or rejects with an RpcError.
   * @param {'subscribe'|'unsubscribe'} method
   * @param {SubscribeParams|UnsubscribeParams} params
   * @returns {Promise<unknown>}
   */
  request(method, params) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new RpcError({ kind: 'NetworkError', message: 'the live socket is not open' }));
    }
    const id = this.nextId++;
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** @param {unknown} text one message from the server: an answer, a batch of them, or a notification */
  receive(text) {
    let msg;
    try {
      msg = JSON.parse(String(text));
    } catch {
      return;
    }
    for (const m of Array.isArray(msg) ? msg : [msg]) {
      if (m?.method === 'changed') {
        const { params } = /** @type {Changed} */ (m);
        this.bySub.get(params?.subscription)?.onChange(params.op, params.data);
        continue;
      }
      const answer = /** @type {Answer} */ (m);
      const waiting = typeof answer?.id === 'number' ? this.pending.get(answer.id) : undefined;
      if (!waiting) continue;
      this.pending.delete(answer.id);
      if (answer.error) {
        const { code, message, data } = answer.error;
        waiting.reject(new RpcError({ code, message, kind: data?.kind ?? 'Unknown', detail: data?.detail ?? null }));
      } else {
        waiting.resolve(answer.result);
      }
    }
  }
}

/** The page's one live connection. */
export const live = new Live();
