// Shared pieces of the end-to-end tests: the browser, a page that records what
// must never happen (dialogs, uncaught errors, CSP violations), a node-side API
// client with its own cookie, and polling assertions instead of sleeps.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'target', 'e2e-screenshots');

export const BASE_URL = (() => {
  const url = process.env.E2E_BASE_URL;
  if (!url) throw new Error('E2E_BASE_URL is not set (e.g. http://127.0.0.1:8080); e2e/run.sh sets it');
  return url.replace(/\/$/, '');
})();

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps dialling out, which a
// closed network turns into slow starts and stray errors.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1100, height: 800 };

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A fresh browser context (own cookies) and page. `problems` collects dialogs,
 * uncaught page errors and CSP violations; `assertClean(problems)` checks it.
 */
export async function openPage(browser, { viewport = DESKTOP } = {}) {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems = { dialogs: [], pageErrors: [], csp: [] };
  page.on('dialog', async (d) => {
    problems.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) problems.csp.push(msg.text());
  });
  return { context, page, problems };
}

export function assertClean(problems) {
  assert.deepEqual(problems.dialogs, [], 'no dialog may open');
  assert.deepEqual(problems.pageErrors, [], 'no uncaught error in the page');
  assert.deepEqual(problems.csp, [], 'no Content-Security-Policy violation');
}

/**
 * Retry `check` (an async function with assertions) until it passes or
 * `timeout` ms pass; then rethrow its last failure. Polling, not sleeping:
 * it returns as soon as the condition holds.
 */
export async function eventually(check, { timeout = 10_000, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Cut `page` off from live updates: its socket to /api/ws opens but hears nothing (the test
 * answers for the server, and says nothing). For tests of a page that has not heard of a change
 * made elsewhere yet, which live updates would otherwise show before the test can act on the old
 * view. Takes effect for the sockets the page opens from now on (call before it loads).
 */
export async function withoutLiveUpdates(page) {
  await page.routeWebSocket(/\/api\/ws$/, () => {});
}

/** A username that no earlier run has used. */
export function randomUsername(prefix = 'e2e') {
  return `${prefix}_${Date.now().toString(36)}_${crypto.randomBytes(4).toString('hex')}`;
}

export const PASSWORD = 'correct horse battery';

export async function screenshot(page, name) {
  await fs.mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** The visible error or status text of the current view. */
export const errorText = (page) => page.locator('#view [data-testid=error]:visible').textContent();
export const statusText = (page) => page.locator('#view [data-testid=status]:visible').textContent();

/** Errors are sentences: no JSON, no codes. */
export function assertFriendly(text) {
  assert.ok(text && text.length > 10, `expected an error sentence, got ${JSON.stringify(text)}`);
  assert.doesNotMatch(text, /[{}[\]]|-320\d\d|"kind"/, `error shown raw: ${text}`);
}

// ---- Acting through the UI ----

export async function loginViaUi(page, username, pwd) {
  if (!/#\/login$/.test(page.url())) await page.goto('/#/login');
  await page.locator('#login-username').fill(username);
  await page.locator('#login-password').fill(pwd);
  await page.locator('#login-submit').click();
  await eventually(async () => assert.equal(await page.getByTestId('whoami').textContent(), username));
}

/** Sign up over HTTP and log in through the page; returns the username. */
export async function freshUserLoggedIn(page) {
  const username = randomUsername();
  const api = new Api();
  const res = await api.post('/api/signup', { username, pwd: PASSWORD });
  assert.equal(res.status, 200, `signup: ${JSON.stringify(res.body)}`);
  await loginViaUi(page, username, PASSWORD);
  return username;
}

/** Create a project through the page's form; returns its id. */
export async function createProjectViaUi(page, name) {
  if (!/#\/projects$/.test(page.url())) await page.goto('/#/projects');
  await page.locator('#new-project-name').fill(name);
  await page.locator('#new-project-name').press('Enter');
  const item = page.getByTestId('project-item').filter({ has: page.getByTestId('project-name').getByText(name, { exact: true }) });
  await item.waitFor();
  return Number(await item.getAttribute('data-project-id'));
}

// ---- Acting through the page's own session (fetch from inside the page) ----

/** Send a JSON-RPC batch with the page's cookie; resolves to the results in call order (throws on errors). */
export async function pageBatch(page, calls) {
  const { status, body } = await page.evaluate(async (reqs) => {
    const r = await fetch('/api/rpc', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(reqs),
    });
    return { status: r.status, body: await r.json() };
  }, calls.map((c, i) => ({ jsonrpc: '2.0', id: i + 1, method: c.method, params: c.params })));
  assert.equal(status, 200, `batch HTTP status: ${JSON.stringify(body)}`);
  const byId = new Map(body.map((r) => [r.id, r]));
  return calls.map((c, i) => {
    const r = byId.get(i + 1);
    assert.ok(r && 'result' in r, `${c.method} failed: ${JSON.stringify(r)}`);
    return r.result;
  });
}

export async function pageRpc(page, method, params) {
  const [result] = await pageBatch(page, [{ method, params }]);
  return result;
}

// ---- Acting from node, like any other HTTP client ----

/** A minimal HTTP client with one cookie jar entry (`auth-token`). */
export class Api {
  constructor(base = BASE_URL) {
    this.base = new URL(base);
    this.cookie = null;
    this.nextId = 1;
  }

  /** POST `body` (JSON unless a string); resolves to {status, headers, body (parsed JSON or text)}. */
  post(pathname, body, headers = {}) {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const allHeaders = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...headers };
    for (const [k, v] of Object.entries(allHeaders)) if (v === null) delete allHeaders[k];
    if (this.cookie) allHeaders.Cookie = this.cookie;
    return new Promise((resolve, reject) => {
      const req = http.request(new URL(pathname, this.base), { method: 'POST', headers: allHeaders }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          for (const c of res.headers['set-cookie'] ?? []) {
            const m = /^auth-token=([^;]*)/.exec(c);
            if (m) this.cookie = m[1] ? `auth-token=${m[1]}` : null;
          }
          let parsed = text;
          try { parsed = text ? JSON.parse(text) : null; } catch { /* keep the text */ }
          resolve({ status: res.statusCode, headers: res.headers, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  async signupAndLogin(username = randomUsername('api'), pwd = PASSWORD) {
    const s = await this.post('/api/signup', { username, pwd });
    assert.equal(s.status, 200, `signup: ${JSON.stringify(s.body)}`);
    const l = await this.post('/api/login', { username, pwd });
    assert.equal(l.status, 200, `login: ${JSON.stringify(l.body)}`);
    assert.ok(this.cookie, 'login set the auth-token cookie');
    return username;
  }

  /** One JSON-RPC call; resolves to the whole HTTP answer. */
  rpcRaw(method, params, headers = {}) {
    return this.post('/api/rpc', { jsonrpc: '2.0', id: this.nextId++, method, params }, headers);
  }

  /** One JSON-RPC call that must succeed; resolves to its result. */
  async rpc(method, params) {
    const res = await this.rpcRaw(method, params);
    assert.equal(res.status, 200, `${method}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    assert.ok('result' in res.body, `${method}: ${JSON.stringify(res.body)}`);
    return res.body.result;
  }
}
