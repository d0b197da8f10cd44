// The diagnostics dashboard of the admin listener (crates/web-server/admin/, served at `/` of
// ADMIN_LISTEN_ADDR): after a burst of load over the public API, some of it failing, the page
// draws its five charts with that data, under the frontend's CSP and without an error. The
// dashboard and its history.json are on the admin listener only.
//
// E2E_ADMIN_URL is the admin listener's base URL (e2e/run.sh sets it); without it the tests skip.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Api, BASE_URL, assertClean, eventually, launchBrowser, openPage, screenshot } from '../lib/harness.mjs';

const ADMIN_URL = process.env.E2E_ADMIN_URL?.replace(/\/$/, '') || null;
const SKIP = ADMIN_URL ? false
  : 'E2E_ADMIN_URL is not set (the admin listener, e.g. http://127.0.0.1:9090); e2e/run.sh sets it';
const ADMIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..',
  'crates', 'web-server', 'admin');

const CHARTS = ['chart-requests', 'chart-latency', 'chart-errors', 'chart-pool', 'chart-throttled'];
/** JSON-RPC calls of the burst, each its own HTTP request. */
const BURST = 200;
/** Of those, calls of `get_task` for an id no one has: each answers EntityNotFound. */
const MISSING = 20;
const MISSING_TASK_ID = 987_654_321;
/** Calls at once: below USER_MAX_INFLIGHT (4), so no call of the burst is throttled. */
const CONCURRENCY = 3;

const sum = (values) => (Array.isArray(values) ? values.reduce((a, v) => a + (v ?? 0), 0) : 0);

describe('diagnostics dashboard', { timeout: 120_000, skip: SKIP }, () => {
  let browser;
  let page;
  let problems;
  /** Console messages of type error, and the page's own securitypolicyviolation events. */
  const consoleErrors = [];
  const api = new Api();
  let projectId;
  let taskIds = [];

  /** Run `calls` (functions returning a promise) CONCURRENCY at a time. */
  async function runAll(calls) {
    let next = 0;
    const worker = async () => {
      while (next < calls.length) {
        const call = calls[next];
        next += 1;
        await call();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  before(async () => {
    browser = await launchBrowser();
    ({ page, problems } = await openPage(browser));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    await page.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
      });
    });
    await api.signupAndLogin();
  });

  after(async () => {
    await browser?.close();
  });

  test(`a burst of ${BURST} RPC calls, ${MISSING} of them failing`, async () => {
    projectId = (await api.rpc('create_project', { data: { name: 'Dashboard load' } })).data.id;
    const created = [];
    await runAll(Array.from({ length: 9 }, (_, i) => async () => {
      created.push((await api.rpc('create_task', { data: { project_id: projectId, title: `load ${i}` } })).data.id);
    }));
    taskIds = created;

    const reads = BURST - 1 - taskIds.length - MISSING;
    const calls = [];
    for (let i = 0; i < reads; i += 1) {
      calls.push(i % 4 === 0
        ? () => api.rpc('list_tasks', { filters: { project_id: projectId } })
        : () => api.rpc('get_task', { id: taskIds[i % taskIds.length] }));
    }
    const kinds = [];
    for (let i = 0; i < MISSING; i += 1) {
      calls.splice(i * 9, 0, async () => {
        const res = await api.rpcRaw('get_task', { id: MISSING_TASK_ID });
        kinds.push(res.body?.error?.data?.kind);
      });
    }
    await runAll(calls);
    assert.deepEqual(kinds, Array(MISSING).fill('EntityNotFound'), 'every call for the missing task failed');
  });

  test('history.json counts the burst: requests, calls by method, errors by kind', async () => {
    let last = null;
    await eventually(async () => {
      const res = await page.request.get(`${ADMIN_URL}/history.json`);
      assert.equal(res.status(), 200);
      assert.match(res.headers()['content-type'] ?? '', /^application\/json/);
      last = await res.json();
      assert.ok(sum(last.requests) >= BURST, `requests: ${sum(last.requests)} so far, want ≥ ${BURST}`);
      const errors = Object.entries(last.errors ?? {}).filter(([, v]) => sum(v) > 0);
      assert.ok(errors.length > 0, `an error series with data: ${JSON.stringify(Object.keys(last.errors ?? {}))}`);
    }, { timeout: 20_000, interval: 500 });

    const n = last.seconds.length;
    assert.ok(n > 0 && n <= 900, `at most 15 minutes of seconds, got ${n}`);
    const cols = [['requests', last.requests], ['pool.in_use', last.pool?.in_use], ['pool.waiting', last.pool?.waiting],
      ...Object.entries(last.rpc_calls ?? {}).map(([m, v]) => [`rpc_calls.${m}`, v]),
      ...Object.entries(last.errors ?? {}).map(([k, v]) => [`errors.${k}`, v])];
    for (const [name, col] of cols) assert.equal(col?.length, n, `${name} has one value per second`);
    assert.ok(sum(last.rpc_calls?.get_task) >= BURST / 2, `get_task calls: ${sum(last.rpc_calls?.get_task)}`);
    const p50 = last.latency_ms?.get_task?.p50 ?? [];
    assert.ok(p50.some((v) => typeof v === 'number' && v >= 0), 'get_task has a p50 latency');
    const notFound = Object.entries(last.errors).find(([kind, v]) => /not_?found/i.test(kind) && sum(v) > 0);
    assert.ok(notFound && sum(notFound[1]) >= MISSING,
      `the missing task's errors are counted by kind: ${JSON.stringify(Object.keys(last.errors))}`);
  });

  test('the page is served with the frontend’s Content-Security-Policy', async () => {
    const res = await page.goto(`${ADMIN_URL}/`);
    assert.equal(res.status(), 200);
    const headers = await res.allHeaders();
    assert.match(headers['content-type'] ?? '', /^text\/html/);
    const csp = headers['content-security-policy'] ?? '';
    for (const directive of ["default-src 'self'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
      "object-src 'none'"]) {
      assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
    }
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(await page.title(), 'web-server diagnostics');
  });

  test('the five charts show the burst', async () => {
    await page.locator('#dashboard[data-ready=true]').waitFor();
    // The page refreshes every 3 s; the burst is in the history already, so the first drawing
    // has it, but a later one may be needed on a slow machine.
    await eventually(async () => {
      assert.ok(Number(await page.locator('#chart-requests').getAttribute('data-peak')) > 0, 'requests drawn');
      assert.ok(Number(await page.locator('#chart-latency').getAttribute('data-peak')) > 0, 'latencies drawn');
      assert.ok(Number(await page.locator('#chart-errors').getAttribute('data-peak')) > 0, 'errors drawn');
    }, { timeout: 10_000, interval: 250 });

    for (const id of CHARTS) {
      const size = await page.locator(`#${id} canvas`).first().evaluate((c) => ({
        width: c.width, height: c.height, box: c.getBoundingClientRect().width,
      }));
      assert.ok(size.width > 0 && size.height > 0 && size.box > 0,
        `${id}: a canvas with a size, ${JSON.stringify(size)}`);
    }
    // At most the 8 busiest methods, a p50 and a p99 line each.
    const latencyLines = Number(await page.locator('#chart-latency').getAttribute('data-lines'));
    assert.ok(latencyLines >= 2 && latencyLines <= 16, `latency lines: ${latencyLines}`);
    assert.match(await page.getByTestId('summary-latency').textContent(), /get_task/);
    assert.match(await page.getByTestId('refreshed').textContent(), /^Updated \d\d:\d\d:\d\d/);
    assert.equal(await page.getByTestId('fetch-error').isHidden(), true, 'no fetch error shown');

    // Let one more refresh draw (setData on the charts already there) before the picture.
    const before = await page.getByTestId('refreshed').textContent();
    await eventually(async () => assert.notEqual(await page.getByTestId('refreshed').textContent(), before),
      { timeout: 10_000, interval: 250 });
    await screenshot(page, 'dashboard');
  });

  test('no console error, no CSP violation, no dialog', async () => {
    assert.deepEqual(await page.evaluate(() => window.cspViolations), [], 'no securitypolicyviolation event');
    assert.deepEqual(consoleErrors, [], 'no console error');
    assertClean(problems);
  });

  test('the dashboard is not on the public listener', async () => {
    for (const p of ['/history.json', '/dashboard.js', '/vendor/uPlot.iife.min.js']) {
      const res = await page.request.get(`${BASE_URL}${p}`);
      assert.equal(res.status(), 404, `public ${p}`);
    }
  });
});

// Like static.test.mjs for web-folder/: the dashboard's own files keep the frontend's rules (the
// CSP would block them anyway). The vendored chart library is checked by its checksums instead.
describe('the dashboard’s sources', () => {
  test('no inline scripts, handlers or styles; no HTML from strings', async () => {
    const html = await fs.readFile(path.join(ADMIN_DIR, 'index.html'), 'utf8');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      assert.match(m[1], /\bsrc=/, 'inline <script>');
      assert.equal(m[2].trim(), '', 'inline script body');
    }
    assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=|javascript:|https?:\/\//i);
    const js = await fs.readFile(path.join(ADMIN_DIR, 'dashboard.js'), 'utf8');
    assert.doesNotMatch(js,
      /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|https?:\/\//);
  });

  test('the vendored uPlot files match the checksums in vendor/README.md', async () => {
    const { createHash } = await import('node:crypto');
    const readme = await fs.readFile(path.join(ADMIN_DIR, 'vendor', 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `([^`]+)` \| [^|]+ \| `([0-9a-f]{64})` \|$/gm)];
    assert.equal(rows.length, 3, 'three files listed');
    for (const [, file, sha] of rows) {
      const bytes = await fs.readFile(path.join(ADMIN_DIR, 'vendor', file));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), sha, file);
    }
  });
});
