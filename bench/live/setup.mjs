// Mode `setup`: signs up and logs in the users, makes their shared projects and first tasks, and
// writes the state file (cookies, projects) that deliver.mjs and hold.mjs read.
import fs from 'node:fs';
import {
  BASE, STATE, SOCKETS, PER_USER, USERS_PER_PROJECT, TASKS_PER_PROJECT, SETUP_CONCURRENCY,
  log, nowMs, rpc, rpcBatch, pool, account, sessionCookie,
} from './lib.mjs';

export async function setup() {
  const nUsers = Math.ceil(SOCKETS / PER_USER);
  const users = Array.from({ length: nUsers }, (_, i) => ({ username: `live${String(i).padStart(4, '0')}` }));
  let t0 = nowMs();
  await pool(users, SETUP_CONCURRENCY, (u) => account('/api/signup', u.username));
  log(`${nUsers} users signed up in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
  t0 = nowMs();
  await pool(users, SETUP_CONCURRENCY, async (u) => { u.cookie = sessionCookie((await account('/api/login', u.username)).headers); });
  log(`${nUsers} users logged in in ${((nowMs() - t0) / 1000).toFixed(1)} s`);

  // Groups of USERS_PER_PROJECT users share one project: its first user owns it, the others edit.
  const projects = [];
  for (let g = 0; g * USERS_PER_PROJECT < nUsers; g++) {
    const members = users.slice(g * USERS_PER_PROJECT, (g + 1) * USERS_PER_PROJECT);
    members.forEach((u) => { u.project = g; });
    projects.push({ g, members: members.map((u) => users.indexOf(u)) });
  }
  await pool(projects, SETUP_CONCURRENCY, async (p) => {
    const owner = users[p.members[0]];
    p.id = (await rpc(owner.cookie, ['create_project', { data: { name: `live ${p.g}` } }])).data.id;
    const calls = p.members.slice(1).map((m) => ['add_project_member', { project_id: p.id, username: users[m].username, role: 'editor' }]);
    for (let k = 0; k < TASKS_PER_PROJECT; k++) calls.push(['create_task', { data: { project_id: p.id, title: `seed ${p.g}.${k}` } }]);
    for (let at = 0; at < calls.length; at += 100) {
      const results = await rpcBatch(owner.cookie, calls.slice(at, at + 100));
      results.forEach((r) => { if (r.data && r.data.title !== undefined) (p.tasks ??= []).push(r.data.id); });
    }
  });
  const state = { base: BASE, users, projects };
  fs.writeFileSync(STATE, JSON.stringify(state));
  log(`${projects.length} projects of ${USERS_PER_PROJECT} users (${USERS_PER_PROJECT * PER_USER} sockets each), ${TASKS_PER_PROJECT} tasks each; state in ${STATE}`);
}
