// Against a live server (E2E_BASE_URL, on a freshly seeded development database: .ci/openrpc.sh
// starts one), in this order, since the examples expect the database as seeded:
//
// 1. The document's example pairings run, and every result has the documented shape. This is
//    the project's own runner, not @open-rpc/test-coverage: that tool calls each example alone,
//    with no session, and compares results for equality, while these methods need a login, act
//    on rows that earlier examples create or change, and answer fresh ids and times.
// 2. The generated client (built into dist/ by `tsc -p .`): typed calls succeed, a JSON-RPC
//    error becomes an ApiError with its kind, and a call without a session is refused.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { API_VERSION, ApiClient, ApiError } from '../dist/index.js';
import { cookieFetch, exampleParams, loadDocument, validators } from './support.mjs';

const BASE_URL = (process.env.E2E_BASE_URL ?? '').replace(/\/$/, '');
const document = loadDocument();
const check = validators(document);
const skip = BASE_URL === '' && 'E2E_BASE_URL is not set (.ci/openrpc.sh sets it)';

async function post(fetcher, path, body) {
  const res = await fetcher(BASE_URL + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

test('rpc.discover answers, without a session, the document this run checks', { skip }, async () => {
  const { status, body } = await post(fetch, '/api/rpc', { jsonrpc: '2.0', id: 1, method: 'rpc.discover' });
  assert.equal(status, 200);
  assert.deepEqual(body.result, document);
});

/**
 * The order the examples run in: as listed, but deletes after everything else (the last
 * entity's first, so a task goes before its project) and `change_pwd`, which ends the
 * session, last.
 */
function runOrder(methods) {
  const rank = (method, index) => {
    if (method.name === 'change_pwd') return [2, 0];
    if (method.name.startsWith('delete_')) return [1, -index];
    return [0, index];
  };
  return methods
    .map((method, index) => ({ method, rank: rank(method, index) }))
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1])
    .map(({ method }) => method);
}

test('every example pairing runs and answers its documented shape', { skip }, async () => {
  assert.equal((await post(fetch, '/api/signup', { username: 'demo2', pwd: 'welcome demo2' })).status, 200);
  const demo1 = cookieFetch();
  assert.equal((await post(demo1, '/api/login', { username: 'demo1', pwd: 'welcome' })).status, 200);
  let id = 0;
  for (const method of runOrder(document.methods)) {
    for (const example of method.examples) {
      const request = { jsonrpc: '2.0', id: ++id, method: method.name, params: exampleParams(example) };
      const { status, body } = await post(demo1, '/api/rpc', request);
      assert.equal(status, 200, `${example.name}: HTTP ${status} ${JSON.stringify(body)}`);
      assert.equal(body.error, undefined, `${example.name}: ${JSON.stringify(body.error)}`);
      assert.deepEqual(check.result(method.name, body.result), [], `${example.name}: ${JSON.stringify(body.result)}`);
    }
  }
});

test('the client was generated from this document', () => {
  assert.equal(API_VERSION, document.info.version);
});

test('the client calls the API with its session', { skip }, async () => {
  const client = new ApiClient({ base: BASE_URL, fetch: cookieFetch() });
  const username = `client_${crypto.randomBytes(4).toString('hex')}`;
  await client.signup(username, 'a good password');
  await client.login(username, 'a good password');

  const me = await client.call('get_me', {});
  assert.equal(me.data.username, username);
  const project = (await client.call('create_project', { data: { name: 'From the client' } })).data;
  const task = (await client.call('create_task', { data: { project_id: project.id, title: 'Typed' } })).data;
  assert.equal(task.done, false);
  const listed = await client.call('list_tasks', {
    filters: { project_id: project.id, title: { $startsWith: 'Ty' } },
    list_options: { order_bys: '!id', limit: 10 },
  });
  assert.deepEqual(listed.data.map((t) => t.id), [task.id]);
  assert.equal(listed.next_cursor, null);

  await assert.rejects(client.call('get_task', { id: 0 }), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, -32004);
    assert.equal(error.kind, 'EntityNotFound');
    return true;
  });
  await client.logoff();
  await assert.rejects(client.call('get_me', {}), (error) => error instanceof ApiError && error.kind === 'Unauthorized');
});
