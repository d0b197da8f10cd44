// Mode `checks`: the protocol checks with a user of its own (401, 403, 429, batches, subscribe and
// unsubscribe, the 33rd subscription, 1008 on logoff); prints PASS/FAIL lines, never fails.
import fs from 'node:fs';
import { BASE, OUT, sleep, post, rpc, account, sessionCookie } from './lib.mjs';
import { openSocket } from './sockets.mjs';

export async function checks() {
  const results = [];
  const check = (name, ok, saw) => {
    results.push({ name, ok, saw });
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${ok ? '' : `: saw ${saw}`}`);
  };
  const refusal = async (cookie, origin) => {
    try { const ws = await openSocket(cookie, '127.11.0.1', { origin }); ws.terminate(); return 'upgraded'; } catch (e) { return e.status ? `HTTP ${e.status}` : e.message; }
  };
  const user = 'livecheck';
  await account('/api/signup', user);
  const cookie = sessionCookie((await account('/api/login', user)).headers);
  const pid = (await rpc(cookie, ['create_project', { data: { name: 'live check' } }])).data.id;

  let saw = await refusal(null, BASE);
  check('no session: HTTP 401 before the upgrade', saw === 'HTTP 401', saw);
  saw = await refusal('auth-token=not-a-session', BASE);
  check('unknown session token: HTTP 401', saw === 'HTTP 401', saw);
  saw = await refusal(cookie, 'http://evil.example');
  check('cross-site Origin: HTTP 403', saw === 'HTTP 403', saw);
  saw = await refusal(cookie, undefined);
  console.log(`INFO no Origin header (a non-browser client): ${saw}`);
  await sleep(300); // that socket's close reaches the server before the 8 below

  const sockets = [];
  const inbox = [];
  const say = (ws, msg) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10000);
    const on = (data) => {
      const m = JSON.parse(data.toString());
      if (m.method === 'changed') return;
      ws.off('message', on); clearTimeout(timer); resolve(m);
    };
    ws.on('message', on);
    ws.send(JSON.stringify(msg));
  });
  try {
    for (let k = 0; k < 8; k++) {
      const ws = await openSocket(cookie, '127.11.0.2', { origin: BASE });
      ws.on('message', (d) => { const m = JSON.parse(d.toString()); if (m.method === 'changed') inbox.push({ k, m }); });
      sockets.push(ws);
    }
    saw = await refusal(cookie, BASE);
    check('9th socket of one user: HTTP 429', saw === 'HTTP 429', saw);

    const ws = sockets[0];
    let a = await say(ws, { jsonrpc: '2.0', id: 1, method: 'list_tasks', params: { filters: { project_id: pid } } });
    check('list_tasks over the socket', Array.isArray(a.result?.data), JSON.stringify(a));
    a = await say(ws, [{ jsonrpc: '2.0', id: 1, method: 'get_project', params: { id: pid } }, { jsonrpc: '2.0', id: 2, method: 'count_tasks', params: {} }]);
    check('a batch over the socket: one message with both answers', Array.isArray(a) && a.length === 2, JSON.stringify(a).slice(0, 300));

    a = await say(ws, { jsonrpc: '2.0', id: 1, method: 'subscribe', params: { entity: 'task', filters: { project_id: { $eq: pid } } } });
    const filtered = a.result?.data?.subscription;
    a = await say(ws, { jsonrpc: '2.0', id: 2, method: 'subscribe', params: { entity: 'task' } });
    const all = a.result?.data?.subscription;
    check('subscribe answers {"data": {"subscription": <string>}}', typeof filtered === 'string' && typeof all === 'string' && filtered !== all, JSON.stringify(a));

    const wait = async (n) => { for (let k = 0; k < 100 && inbox.length < n; k++) await sleep(20); await sleep(200); };
    const created = (await rpc(cookie, ['create_task', { data: { project_id: pid, title: 'check 1' } }])).data;
    await wait(2);
    const got = inbox.splice(0).map((x) => `${x.k}:${x.m.params.subscription}:${x.m.params.op}`).sort().join(' ');
    const want = [`0:${filtered}:create`, `0:${all}:create`].sort().join(' ');
    check('a create reaches both subscriptions of that socket, and no other socket', got === want, `[${got}] (expected [${want}])`);

    a = await say(ws, { jsonrpc: '2.0', id: 3, method: 'unsubscribe', params: { subscription: filtered } });
    check('unsubscribe answers {"data": true}', a.result?.data === true, JSON.stringify(a));
    await rpc(cookie, ['update_task', { id: created.id, data: { title: 'check 2' } }]);
    await rpc(cookie, ['delete_task', { id: created.id }]);
    await wait(2);
    const after = inbox.splice(0).map((x) => x.m.params);
    const ops = after.map((p) => `${p.subscription}:${p.op}:${p.data?.title}`).join(' ');
    check('after unsubscribe: update then delete (the row as it was) on the other subscription only',
      ops === `${all}:update:check 2 ${all}:delete:check 2`, `[${ops}]`);
    if (after[0]) {
      const keys = Object.keys(after[0].data ?? {}).sort().join(',');
      check('notification data has the task shape (id, project_id, title, ..., mtime)',
        ['id', 'project_id', 'title', 'done', 'mtime'].every((k) => keys.split(',').includes(k)), keys);
    }

    // 'all' is still on: 31 more subscriptions make 32, and the next one must be refused.
    let accepted = 0;
    let last;
    for (let k = 0; k < 40; k++) {
      last = await say(ws, { jsonrpc: '2.0', id: 10 + k, method: 'subscribe', params: { entity: 'project' } });
      if (!last.result) break;
      accepted++;
    }
    check('33rd subscription of one socket: a JSON-RPC error', accepted === 31 && !!last.error,
      `${accepted + 1} subscriptions accepted, then ${JSON.stringify(last).slice(0, 300)}`);
  } catch (e) {
    check('protocol checks ran to the end', false, e.message);
  } finally {
    sockets.forEach((ws) => ws.terminate());
  }
  // After logoff the open sockets must close with 1008.
  try {
    const ws = await openSocket(cookie, '127.11.0.3', { origin: BASE });
    const closed = new Promise((resolve) => { ws.on('close', (code) => resolve(code)); setTimeout(() => resolve('still open after 5 s'), 5000); });
    await sleep(200);
    const r = await post('/api/logoff', { logoff: true }, cookie);
    const code = await closed;
    check('logoff closes the user\'s sockets with 1008', code === 1008, `${code} (logoff HTTP ${r.status})`);
    ws.terminate();
  } catch (e) {
    check('logoff closes the user\'s sockets with 1008', false, e.message);
  }
  if (OUT) fs.writeFileSync(OUT.replace(/\.json$/, '-checks.json'), JSON.stringify(results));
}
