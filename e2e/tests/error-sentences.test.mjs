// The sentences the page shows for errors a browser cannot easily provoke (a fair-share
// refusal, a statement timeout, a bare 403): the modules are plain JavaScript, tested without a browser.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeError } from '../../web-folder/js/errors.js';
import { RpcClient } from '../../web-folder/js/rpc.js';

describe('error sentences', () => {
  test('a throttled call says when to retry, to the second', () => {
    const text = describeError({ kind: 'TooManyRequests', retryAfterMs: 1200 });
    assert.equal(text, 'Too many requests at once. Please try again in 2 seconds.');
    assert.match(describeError({ kind: 'TooManyRequests', retryAfterMs: 300 }), /in 1 second\./);
  });

  test('a throttled login says when to retry, in minutes when long', () => {
    const text = describeError({ kind: 'TooManyAttempts', retryAfterMs: 900_000 });
    assert.equal(text, 'Too many failed attempts. Please try again in 15 minutes.');
  });

  test('a role that does not allow an action says so, without the developer detail', () => {
    const text = describeError({ kind: 'Forbidden', detail: 'your role in this project does not allow it',
      reqId: 'abc' });
    assert.match(text, /^Your role in this project does not allow that\./);
    assert.doesNotMatch(text, /\(|abc/);
  });

  test('a bare 403 (from a proxy, say: not a role refusal) is a plain refusal', async () => {
    const saved = globalThis.fetch;
    globalThis.fetch = async () => new Response('', { status: 403 });
    try {
      const err = await new RpcClient().call('get_me').then(() => null, (e) => e);
      assert.equal(err?.kind, 'Refused');
      assert.equal(describeError(err), 'The server refused this request.');
    } finally {
      globalThis.fetch = saved;
    }
  });

  test('a statement timeout asks for a narrower search, without the developer detail', () => {
    const text = describeError({ kind: 'QueryTimeout', detail: 'the database stopped this call' });
    assert.match(text, /took too long/);
    assert.match(text, /narrow it down/);
    assert.doesNotMatch(text, /database stopped/);
  });
});
