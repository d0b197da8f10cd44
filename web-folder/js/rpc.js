// The one way the page talks to the server: JSON-RPC 2.0 at /api/rpc and the
// three REST endpoints for sessions. Every failure becomes an `RpcError`, so
// views deal with one error type and never see raw response bodies.

/** @typedef {import('../../clients/ts/src/api.gen.js').Methods} Methods */
/** @typedef {import('../../clients/ts/src/api.gen.js').Method} Method */

/**
 * One call of a batch: a method and its params (checked against that method).
 * @typedef {{[M in Method]: {method: M, params?: Methods[M]['params']}}[Method]} Call
 */

/** A failed call: JSON-RPC error, REST error, or a transport problem. */
export class RpcError extends Error {
  /**
   * @param {object} o
   * @param {number|null} [o.code]    JSON-RPC error code (null for transport failures)
   * @param {string} [o.message]      the server's message (for logs, not for people)
   * @param {string} [o.kind]         `error.data.kind`, or a client-side kind such as NetworkError
   * @param {string|null} [o.detail]  `error.data.detail` when the server gave one
   * @param {string|null} [o.field]   `error.data.field`: the one field at fault (`old_pwd`,
   *                                  `data.title`), when the server named one
   * @param {string|null} [o.reqId]   `error.data.req_id` or the `x-request-id` header
   * @param {number|null} [o.status]  HTTP status
   * @param {number|null} [o.retryAfterMs]  when to retry, in ms: `error.data.retry_after_ms`, else
   *                                        the `Retry-After` header; null when the server gave none
   * @param {Record<string, unknown>|null} [o.data]  the whole `error.data` object
   */
  constructor({ code = null, message = '', kind = 'Unknown', detail = null, field = null, reqId = null,
    status = null, retryAfterMs = null, data = null }) {
    super(message || kind);
    this.name = 'RpcError';
    this.code = code;
    this.kind = kind;
    this.detail = detail;
    this.field = field;
    this.reqId = reqId;
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.data = data;
  }
}

// HTTP statuses answered outside JSON-RPC may come without a usable body
// (e.g. from a proxy); these kinds keep such failures recognisable. A bare 403 is
// `Refused`: `Forbidden` is the JSON-RPC answer to an action a project role does not allow.
const KIND_BY_STATUS = {
  401: 'Unauthorized',
  403: 'Refused',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
};

function errorFromBody(errObj, status, headers) {
  const data = errObj && typeof errObj.data === 'object' && errObj.data !== null ? errObj.data : {};
  const retrySec = headers ? Number.parseInt(headers.get('retry-after') ?? '', 10) : NaN;
  const retryMs = Number.isFinite(data.retry_after_ms) ? data.retry_after_ms : retrySec * 1000;
  return new RpcError({
    code: typeof errObj?.code === 'number' ? errObj.code : null,
    message: typeof errObj?.message === 'string' ? errObj.message : '',
    kind: typeof data.kind === 'string' ? data.kind : (KIND_BY_STATUS[status] ?? 'Unknown'),
    detail: typeof data.detail === 'string' ? data.detail : null,
    field: typeof data.field === 'string' ? data.field : null,
    reqId: typeof data.req_id === 'string' ? data.req_id : (headers?.get('x-request-id') ?? null),
    status,
    retryAfterMs: Number.isFinite(retryMs) && retryMs > 0 ? retryMs : null,
    data,
  });
}

/**
 * A JSON-RPC client bound to one origin. It is an EventTarget and fires
 * `unauthorized` when /api/rpc answers 401 (no or expired session), so the app
 * can send the user to the login view from one place.
 */
export class RpcClient extends EventTarget {
  constructor({ base = '' } = {}) {
    super();
    this.base = base;
    this.nextId = 1;
  }

  /** POST a JSON body; resolves to {status, headers, body} where body is parsed JSON or null. */
  async post(path, payload) {
    let res;
    try {
      res = await fetch(this.base + path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(payload),
      });
    } catch (e) {
      throw new RpcError({ kind: 'NetworkError', message: String(e?.message ?? e) });
    }
    const text = await res.text();
    let body = null;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        throw new RpcError({
          kind: KIND_BY_STATUS[res.status] ?? 'BadResponse',
          message: `unreadable response (HTTP ${res.status})`,
          status: res.status,
          reqId: res.headers.get('x-request-id'),
        });
      }
    }
    return { status: res.status, headers: res.headers, body };
  }

  /** POST to /api/rpc and turn whole-request failures (401, 403, 503, ...) into a thrown RpcError. */
  async postRpc(payload) {
    const { status, headers, body } = await this.post('/api/rpc', payload);
    if (status === 200 || status === 204) return { body, headers };
    const errObj = body && !Array.isArray(body) ? body.error : null;
    const err = errorFromBody(errObj, status, headers);
    if (status === 401) this.dispatchEvent(new CustomEvent('unauthorized', { detail: err }));
    throw err;
  }

  /**
   * Call one method; resolves to its `result` or throws an RpcError. Typed by the client types
   * generated from the server's OpenRPC document (clients/ts).
   * @template {Method} M
   * @param {M} method
   * @param {Methods[M]['params']} [params]
   * @returns {Promise<Methods[M]['result']>}
   */
  async call(method, params) {
    const id = this.nextId++;
    const req = { jsonrpc: '2.0', id, method };
    if (params !== undefined) req.params = params;
    const { body, headers } = await this.postRpc(req);
    if (!body || Array.isArray(body) || body.id !== id) {
      throw new RpcError({ kind: 'BadResponse', message: 'response does not match request', status: 200,
        reqId: headers.get('x-request-id') });
    }
    if ('error' in body) throw errorFromBody(body.error, 200, headers);
    return body.result;
  }

  /**
   * Send several calls in one request. Resolves to an array in the order of
   * `calls`, each element either that call's `result` or an RpcError (one
   * failing call does not hide the others). Whole-request failures throw.
   * @param {Call[]} calls
   * @returns {Promise<any[]>} loosely typed: the caller knows which result (or RpcError) each is
   */
  async batch(calls) {
    if (calls.length === 0) return [];
    const reqs = calls.map(({ method, params }) => {
      const req = { jsonrpc: '2.0', id: this.nextId++, method };
      if (params !== undefined) req.params = params;
      return req;
    });
    const { body, headers } = await this.postRpc(reqs);
    // A single error object instead of an array means the batch itself was refused.
    if (body && !Array.isArray(body)) {
      throw errorFromBody(body.error, 200, headers);
    }
    const byId = new Map((body ?? []).map((r) => [r.id, r]));
    return reqs.map((req) => {
      const r = byId.get(req.id);
      if (!r) {
        return new RpcError({ kind: 'BadResponse', message: `no response for ${req.method}`,
          reqId: headers.get('x-request-id') });
      }
      return 'error' in r ? errorFromBody(r.error, 200, headers) : r.result;
    });
  }

  /** POST to a REST endpoint answering {"result": ...} or {"error": ...}. */
  async rest(path, payload) {
    const { status, headers, body } = await this.post(path, payload);
    if (status >= 200 && status < 300 && body && 'result' in body) return body.result;
    throw errorFromBody(body?.error, status, headers);
  }

  signup(username, pwd) {
    return this.rest('/api/signup', { username, pwd });
  }

  login(username, pwd) {
    return this.rest('/api/login', { username, pwd });
  }

  logoff() {
    return this.rest('/api/logoff', { logoff: true });
  }
}

/** The app's shared client. */
export const rpc = new RpcClient();
