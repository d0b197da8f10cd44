// The OpenRPC document as the OpenRPC tools and the project's docs see it: valid against the
// OpenRPC meta-schema (the OpenRPC project's own validator), every example pairing conforming to
// its method's schemas, and every request shown in docs/api.md conforming too, so that neither
// the document nor the docs can drift from the server.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { validateOpenRPCDocument } from '@open-rpc/schema-utils-js';
import { REPO_ROOT, exampleParams, loadDocument, validators } from './support.mjs';

const document = loadDocument();
const check = validators(document);

test('the document is valid OpenRPC', () => {
  const verdict = validateOpenRPCDocument(document);
  assert.equal(verdict, true, verdict === true ? '' : verdict.message);
});

test('every example pairing conforms to its method', () => {
  for (const method of document.methods) {
    assert.ok(method.examples.length > 0, `${method.name} has no example`);
    for (const example of method.examples) {
      assert.deepEqual(check.params(method.name, exampleParams(example)), [], `${example.name} params`);
      assert.deepEqual(check.result(method.name, example.result.value), [], `${example.name} result`);
    }
  }
});

/** Every JSON-RPC request object written in `text`: each `{"jsonrpc"...}` that parses. */
export function requestsIn(text) {
  const requests = [];
  for (let start = text.indexOf('{"jsonrpc"'); start !== -1; start = text.indexOf('{"jsonrpc"', start + 1)) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        try {
          requests.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          // A shape written with placeholders (`"method": s`), not a request.
        }
        break;
      }
    }
  }
  return requests;
}

// Requests the docs show in order to show them refused: method and params as written there.
const SHOWN_REFUSED = [
  ['get_project', [1]],
  ['get_me', { verbose: true }],
  ['get_me', 'x'],
  ['create_project', { data: { name: 'X', owner_id: 2 } }],
  ['update_project', { id: 3, data: { title: 'X' } }],
  ['get_project', { id: '3' }],
  ['transaction', { calls: [{ method: 'create_project', params: { data: { name: 'Spring cleaning' } } },
    { method: 'change_pwd', params: { old_pwd: 'welcome', new_pwd: 'welcome again' } }] }],
  ['count_tasks', { filters: { "$or": [] } }],
  ['list_tasks', { filters: { owner: 1 } }],
  ['list_tasks', { filters: { done: { "$in": [true] } } }],
  ['list_tasks', { filters: { id: { "$gt": '2' } } }],
  ['list_tasks', { list_options: { limit: 0 } }],
  ['list_tasks', { list_options: { order_bys: '!owner' } }],
  ['count_tasks', { list_options: { limit: 5 } }],
];

// Methods the docs call that the document does not list: one shown unknown (-32601),
// rpc.discover, the protocol's own, and the WebSocket's own (docs/api.md, 10: subscribe,
// unsubscribe and the server's changed notifications), which POST /api/rpc does not answer.
const NOT_IN_DOCUMENT = ['no_such_method', 'rpc.discover', 'subscribe', 'unsubscribe', 'changed'];

test('every request in docs/api.md conforms to its method, or is shown refused', () => {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
  const requests = requestsIn(text).filter((r) => typeof r.method === 'string' && !NOT_IN_DOCUMENT.includes(r.method));
  assert.ok(requests.length >= 30, `only ${requests.length} requests found in docs/api.md`);
  const refused = new Set();
  for (const { method, params = {} } of requests) {
    assert.ok(check.methods.has(method), `docs/api.md calls ${method}, which the document does not list`);
    const problems = params === null ? [] : check.params(method, params);
    const shownRefused = SHOWN_REFUSED.findIndex(([m, p]) => m === method && JSON.stringify(p) === JSON.stringify(params));
    if (shownRefused !== -1) {
      assert.notDeepEqual(problems, [], `docs/api.md shows ${method} ${JSON.stringify(params)} refused, but it conforms`);
      refused.add(shownRefused);
    } else {
      assert.deepEqual(problems, [], `docs/api.md: ${method} ${JSON.stringify(params)}`);
    }
  }
  assert.equal(refused.size, SHOWN_REFUSED.length, 'every listed refusal is still in the docs');
});
