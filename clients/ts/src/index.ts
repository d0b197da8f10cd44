// A typed client of the web-server JSON-RPC API. The types come from the server's OpenRPC
// document (`api.gen.ts`, made by `npm run generate`); this file is the transport: JSON-RPC 2.0
// over `POST /api/rpc` with the session cookie, as a browser sends it.

import type { Method, Methods } from './api.gen.js';

export * from './api.gen.js';

/** A JSON-RPC error answered by the server, or a failure of the request itself. */
export class ApiError extends Error {
  /** The JSON-RPC code (-32004, ...), or the HTTP status when the request itself failed. */
  readonly code: number;
  /** `error.data.kind` (`EntityNotFound`, `InvalidParams`, ...). */
  readonly kind: string;
  readonly data: Record<string, unknown>;

  constructor(code: number, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.kind = typeof data.kind === 'string' ? data.kind : 'Unknown';
    this.data = data;
  }
}

export interface ClientOptions {
  /** Where the server is: `''` (the page's own origin, the default) or `http://host:port`. */
  base?: string;
  /**
   * The fetch to use. The default is the global one with `credentials: 'same-origin'`, which
   * sends the session cookie of a page served by the server; outside a browser, pass one that
   * keeps the cookie `POST /api/login` sets.
   */
  fetch?: typeof fetch;
}

interface RpcResponse {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

export class ApiClient {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  #nextId = 1;

  constructor({ base = '', fetch: fetchImpl }: ClientOptions = {}) {
    this.#base = base.replace(/\/$/, '');
    this.#fetch = fetchImpl ?? ((input, init) => fetch(input, { credentials: 'same-origin', ...init }));
  }

  /** Calls `method` with its params; resolves to its result, or rejects with an ApiError. */
  async call<M extends Method>(method: M, params: Methods[M]['params']): Promise<Methods[M]['result']> {
    const id = this.#nextId++;
    const body = await this.#post('/api/rpc', { jsonrpc: '2.0', id, method, params });
    const response = body as RpcResponse;
    if (response.error) throw new ApiError(response.error.code, response.error.message, response.error.data);
    if (response.id !== id || !('result' in response)) throw new ApiError(-32603, 'the response does not answer the request');
    return response.result as Methods[M]['result'];
  }

  /** `POST /api/signup`: a new account (log in to use it). */
  async signup(username: string, pwd: string): Promise<void> {
    await this.#post('/api/signup', { username, pwd });
  }

  /** `POST /api/login`: the session cookie comes with the answer. */
  async login(username: string, pwd: string): Promise<void> {
    await this.#post('/api/login', { username, pwd });
  }

  /** `POST /api/logoff`. */
  async logoff(): Promise<void> {
    await this.#post('/api/logoff', { logoff: true });
  }

  async #post(path: string, payload: unknown): Promise<unknown> {
    const res = await this.#fetch(this.#base + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(payload),
    });
    const text = await res.text();
    const body = text === '' ? null : JSON.parse(text);
    if (!res.ok) {
      const error = body?.error ?? {};
      throw new ApiError(error.code ?? res.status, error.message ?? `HTTP ${res.status}`, error.data ?? {});
    }
    return body;
  }
}
