// Hostile data stays text; cross-site and malformed requests are refused
// before anything is done; the page is served with a CSP.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Api, BASE_URL, PASSWORD, assertClean, createProjectViaUi, eventually, freshUserLoggedIn, launchBrowser, openPage,
} from '../lib/harness.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const XSS2 = '"><script>alert(2)</script>';

describe('hostile text is shown as text', { timeout: 120_000 }, () => {
  let browser;
  let page;
  let problems;

  before(async () => {
    browser = await launchBrowser();
    ({ page, problems } = await openPage(browser));
    await freshUserLoggedIn(page);
  });

  after(async () => {
    await browser?.close();
  });

  test('the page is served with a Content-Security-Policy', async () => {
    const res = await page.goto('/');
    const csp = (await res.allHeaders())['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'self'/);
  });

  test('a project named like markup is shown literally', async () => {
    const id = await createProjectViaUi(page, XSS);
    const item = page.locator(`[data-testid=project-item][data-project-id="${id}"]`);
    assert.equal(await item.getByTestId('project-name').textContent(), XSS);
    assert.equal(await page.locator('#view img, #view script').count(), 0, 'no element was made from the name');

    await item.getByTestId('project-name').click();
    await eventually(async () => assert.equal(await page.getByTestId('project-title').textContent(), XSS));
  });

  test('a task titled like markup is shown literally in every state', async () => {
    await page.locator('#new-task-title').fill(XSS);
    await page.locator('#new-task-desc').fill(XSS2);
    await page.locator('#add-task').click();
    const task = page.getByTestId('task-item').first();
    await eventually(async () => assert.equal(await task.getByTestId('task-title').textContent(), XSS));
    assert.equal(await task.getByTestId('task-desc').textContent(), XSS2);
    assert.match(await page.getByTestId('status').textContent(), /Added “<img src=x onerror=alert\(1\)>”/);

    await task.getByTestId('delete-task').click();
    assert.match(await task.locator('.confirm p').textContent(), /<img src=x onerror=alert\(1\)>/);
    await task.getByTestId('cancel-delete').click();
    await task.getByTestId('edit-task').click();
    assert.equal(await task.locator('input[name=title]').inputValue(), XSS);
    await task.getByTestId('cancel-edit').click();

    await page.locator('#task-search').fill('<img');
    await page.locator('#task-search').press('Enter');
    await eventually(async () => assert.equal(await page.getByTestId('task-summary').textContent(), 'Showing 1–1 of 1 task.'));
    assert.equal(await page.locator('#view img, #view script').count(), 0);
  });

  test('no dialog fired, no script ran, no CSP violation', () => {
    assertClean(problems);
  });
});

describe('requests the server must refuse', { timeout: 60_000 }, () => {
  const api = new Api();

  before(async () => {
    await api.signupAndLogin();
  });

  async function projectNames() {
    const res = await api.rpc('list_projects', {});
    return res.data.map((p) => p.name);
  }

  test('a cross-site Origin is refused with 403 and nothing is done', async () => {
    const res = await api.rpcRaw('create_project', { data: { name: 'from evil origin' } },
      { Origin: 'http://evil.example' });
    assert.equal(res.status, 403);
    assert.ok(!(await projectNames()).includes('from evil origin'));
  });

  test('Sec-Fetch-Site: cross-site is refused with 403 and nothing is done', async () => {
    const res = await api.rpcRaw('create_project', { data: { name: 'from cross-site fetch' } },
      { 'Sec-Fetch-Site': 'cross-site' });
    assert.equal(res.status, 403);
    assert.ok(!(await projectNames()).includes('from cross-site fetch'));
  });

  test('a cross-site log-off is refused, so the session lives on', async () => {
    const res = await api.post('/api/logoff', { logoff: true }, { Origin: 'http://evil.example' });
    assert.equal(res.status, 403);
    const me = await api.rpc('get_me');
    assert.ok(me.data.username);
  });

  test('the same origin is accepted', async () => {
    const res = await api.rpcRaw('create_project', { data: { name: 'same origin' } },
      { Origin: BASE_URL, 'Sec-Fetch-Site': 'same-origin' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok((await projectNames()).includes('same origin'));
  });

  test('a body that is not declared JSON is refused with 415 and nothing is done', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'create_project', params: { data: { name: 'text/plain' } } });
    const res = await api.post('/api/rpc', body, { 'Content-Type': 'text/plain' });
    assert.equal(res.status, 415);
    assert.ok(!(await projectNames()).includes('text/plain'));
  });

  test('an RPC without a session gets 401 with a JSON-RPC error', async () => {
    const anon = new Api();
    const res = await anon.rpcRaw('get_me');
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, -32001);
    assert.equal(res.body.id, null);
  });
});

describe('sessions end when they should', { timeout: 60_000 }, () => {
  test('logging off ends that session at once; the user’s other sessions live on', async () => {
    const a = new Api();
    const username = await a.signupAndLogin();
    const b = new Api();
    assert.equal((await b.post('/api/login', { username, pwd: PASSWORD })).status, 200);
    const oldCookie = a.cookie;

    const off = await a.post('/api/logoff', { logoff: true });
    assert.equal(off.status, 200);
    assert.deepEqual(off.body, { result: { logged_off: true } });

    const replay = new Api();
    replay.cookie = oldCookie;
    assert.equal((await replay.rpcRaw('get_me')).status, 401, 'the logged-off token is dead');
    assert.equal((await b.rpc('get_me')).data.username, username, 'the other session lives on');
  });

  test('changing the password ends the other sessions and keeps this one', async () => {
    const a = new Api();
    const username = await a.signupAndLogin();
    const b = new Api();
    assert.equal((await b.post('/api/login', { username, pwd: PASSWORD })).status, 200);

    assert.deepEqual(await a.rpc('change_pwd', { old_pwd: PASSWORD, new_pwd: 'another long secret' }), { data: true });
    assert.equal((await b.rpcRaw('get_me')).status, 401, 'the other session has ended');
    assert.equal((await a.rpc('get_me')).data.username, username, 'this session goes on');
  });
});
