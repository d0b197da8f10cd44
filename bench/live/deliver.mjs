// Mode `deliver`: server memory per idle subscribed socket, then the writes at a fixed rate and
// what the sockets received (lost, duplicates, order, latencies); writes the results file.
import fs from 'node:fs';
import {
  OUT, SOCKETS, ADDRS, RATE, SECONDS, IDLE_SECONDS, DRAIN_SECONDS, SETTLE_SECONDS, MAX_INFLIGHT,
  SERVER_PID, TIMEOUT_MS, log, sleep, nowMs, timeMs, post,
} from './lib.mjs';
import { stats, loadState, makeSubs, openAll, closeAll } from './sockets.mjs';

// The server's CPU time (user and system) in ms so far (NaN without LIVE_SERVER_PID).
function cpuMs() {
  if (!SERVER_PID) return NaN;
  const fields = fs.readFileSync(`/proc/${SERVER_PID}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// The server's resident memory in KiB (NaN without LIVE_SERVER_PID).
function rssKiB() {
  if (!SERVER_PID) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${SERVER_PID}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export async function deliver() {
  const state = loadState();
  const subs = makeSubs(state);
  const nProjects = state.projects.length;
  const writes = [];
  const arrivals = { t: [], w: [], mtime: [] };

  const onChanged = (sub, params, t) => {
    stats.notifications++;
    const d = params?.data;
    if (!d || typeof d !== 'object') { stats.malformed++; return; }
    if (params.subscription !== sub.subId) stats.wrongSubscription++;
    if (d.project_id !== sub.project.id) stats.wrongProject++;
    const m = /^live w(\d+)$/.exec(d.title);
    const w = m && writes[Number(m[1])];
    if (!w) { stats.unknownRow++; return; }
    // The write's answer may not have arrived yet (the notification can beat it): whether the
    // write succeeded is looked at in the end.
    if (params.op !== w.op) stats.wrongOp++;
    if (!w.seen) w.seen = new Uint8Array(SOCKETS);
    if (w.seen[sub.i]) { stats.duplicates++; return; }
    w.seen[sub.i] = 1;
    w.received++;
    // Writes to one row are made one after another (below), so their sequence numbers are in
    // commit order: a socket must see them rise.
    const last = sub.lastSeq.get(d.id);
    if (last !== undefined && last > w.seq) stats.outOfOrder++;
    sub.lastSeq.set(d.id, w.seq);
    arrivals.t.push(t);
    arrivals.w.push(w.seq);
    arrivals.mtime.push(timeMs(d.mtime));
  };

  // The baseline waits for the set-up's memory to go back: the password hashes ran on blocking
  // threads, which keep their allocator pages until they exit (10 s idle in tokio).
  log(`settling for ${SETTLE_SECONDS} s before the memory baseline`);
  await sleep(SETTLE_SECONDS * 1000);
  const rssBefore = rssKiB();
  const extensions = await openAll(subs, onChanged);
  const perProject = new Array(nProjects).fill(0);
  for (const s of subs) perProject[s.user.project]++;
  log(`idle for ${IDLE_SECONDS} s with every socket subscribed`);
  const idleFrom = { server: cpuMs(), tool: process.cpuUsage(), t: nowMs() };
  await sleep(IDLE_SECONDS * 1000);
  const rssAfter = rssKiB();
  const idleFor = (nowMs() - idleFrom.t) / 1000;
  const toolCpu = process.cpuUsage(idleFrom.tool);
  // What the open sockets cost while nothing is written: the CPU each side spends a second.
  const idleCpu = {
    server_ms_per_s: Math.round((cpuMs() - idleFrom.server) / idleFor),
    tool_ms_per_s: Math.round((toolCpu.user + toolCpu.system) / 1000 / idleFor),
  };
  if (stats.notifications) log(`WARNING: ${stats.notifications} notifications arrived before any write`);
  const beforeWrites = stats.notifications;

  // Writes: RATE a second for SECONDS, round-robin over the projects, every other one an update
  // of a row of that project that has no write in flight (so one row's writes are sequential).
  const idle = state.projects.map((p) => [...p.tasks]);
  const total = Math.round(RATE * SECONDS);
  let next = 0;
  let inflight = 0;
  let delayedTicks = 0;
  const writeLatency = [];
  const errors = new Map();
  // The load tool's own delay: how late a 5 ms timer fires (a notification waits as long).
  const lag = [];
  let lagLast = nowMs();
  const lagTimer = setInterval(() => { const t = nowMs(); lag.push(Math.max(0, t - lagLast - 5)); lagLast = t; }, 5);
  const tStart = nowMs() + 50;
  const deadline = tStart + SECONDS * 2000 + 5000; // issuing stops here, even if behind
  const issue = (seq) => {
    const pi = seq % nProjects;
    const p = state.projects[pi];
    const user = state.users[p.members[seq % p.members.length]];
    const title = `live w${seq}`;
    let op = 'create';
    let params = { data: { project_id: p.id, title } };
    if (seq % 2 === 1 && idle[pi].length) {
      const id = idle[pi].splice(Math.floor(Math.random() * idle[pi].length), 1)[0];
      op = 'update';
      params = { id, data: { title } };
    }
    const w = { seq, project: pi, op, taskId: params.id, ok: false, tSent: nowMs(), tResp: NaN, expected: perProject[pi], received: 0, seen: null };
    writes[seq] = w;
    inflight++;
    post('/api/rpc', { jsonrpc: '2.0', id: seq, method: `${op}_task`, params }, user.cookie).then((r) => {
      inflight--;
      w.tResp = r.tResp;
      let answer = null;
      try { answer = JSON.parse(r.body); } catch { /* counted below */ }
      if (r.status === 200 && answer?.result?.data) {
        w.ok = true;
        w.taskId = answer.result.data.id;
        idle[pi].push(w.taskId);
        writeLatency.push(r.tResp - w.tSent);
      } else {
        const key = `HTTP ${r.status} ${r.error ?? JSON.stringify(answer?.error ?? r.body).slice(0, 200)}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
        if (w.taskId !== undefined) idle[pi].push(w.taskId);
      }
    });
  };
  log(`writing: ${total} writes at ${RATE}/s over ${nProjects} projects`);
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = nowMs();
      while (next < total && tStart + (next * 1000) / RATE <= now) {
        if (inflight >= MAX_INFLIGHT) { delayedTicks++; break; }
        issue(next++);
      }
      if (next >= total || now > deadline) { clearInterval(timer); resolve(); }
    }, 2);
  });
  const tIssued = nowMs();
  for (let k = 0; inflight > 0 && k < (TIMEOUT_MS + 5000) / 20; k++) await sleep(20);
  const tEnd = nowMs();
  clearInterval(lagTimer);
  const lagSorted = Float64Array.from(lag).sort();

  let expected = 0;
  const received = () => writes.reduce((n, w) => n + (w.ok ? w.received : 0), 0);
  for (const w of writes) if (w.ok) expected += w.expected;
  for (let k = 0; k < DRAIN_SECONDS * 20 && received() < expected; k++) await sleep(50);
  await sleep(500); // late duplicates or strays
  const got = received();
  stats.forFailedWrites = writes.reduce((n, w) => n + (w.ok ? 0 : w.received), 0);
  const closes = subs.filter((s) => s.closed).map((s) => s.closed.code);
  await closeAll(subs);

  // Latencies: receipt minus the write's HTTP answer (the answer comes after the commit, so this
  // under-estimates: a lower bound, negative when the notification beat the answer), and receipt
  // minus the row's mtime (Postgres' now(): the statement's start, before the commit, so an upper
  // bound). The delivery itself lies between the two.
  const fromAnswer = new Float64Array(arrivals.t.length);
  const fromMtime = new Float64Array(arrivals.t.length);
  for (let k = 0; k < arrivals.t.length; k++) {
    fromAnswer[k] = arrivals.t[k] - writes[arrivals.w[k]].tResp;
    fromMtime[k] = arrivals.t[k] - arrivals.mtime[k];
  }
  fromAnswer.sort();
  fromMtime.sort();
  const wl = Float64Array.from(writeLatency).sort();
  const ms = (v) => Math.round(v * 100) / 100;
  const ok = writes.filter((w) => w.ok).length;
  const results = {
    sockets: SOCKETS, users: state.users.length, projects: nProjects, sockets_per_project: Math.max(...perProject),
    source_addrs: Math.min(ADDRS, SOCKETS), extensions,
    rate: RATE, seconds: SECONDS,
    writes_planned: total, writes_sent: writes.length, writes_ok: ok,
    creates: writes.filter((w) => w.op === 'create').length, updates: writes.filter((w) => w.op === 'update').length,
    write_rate: ms(writes.length / ((tIssued - tStart) / 1000)),
    write_seconds: ms((tEnd - tStart) / 1000), write_errors: Object.fromEntries(errors), delayed_by_inflight_cap: delayedTicks,
    write_p50_ms: ms(percentile(wl, 50)), write_p99_ms: ms(percentile(wl, 99)),
    expected, received: got, lost: expected - got,
    writes_short: writes.filter((w) => w.ok && w.received < w.expected).length,
    // The first few short writes, to find where they fell: sent this many ms into the run.
    short_writes: writes.filter((w) => w.ok && w.received < w.expected).slice(0, 10).map((w) => ({
      seq: w.seq, op: w.op, project: w.project, task: w.taskId, received: w.received, expected: w.expected,
      sent_ms: ms(w.tSent - tStart),
    })),
    ...stats, notifications_before_writes: beforeWrites,
    latency_from_answer_ms: { p50: ms(percentile(fromAnswer, 50)), p99: ms(percentile(fromAnswer, 99)), max: ms(fromAnswer[fromAnswer.length - 1]), negative_share: ms(fromAnswer.filter((v) => v < 0).length / (fromAnswer.length || 1)) },
    latency_from_mtime_ms: { p50: ms(percentile(fromMtime, 50)), p99: ms(percentile(fromMtime, 99)), max: ms(fromMtime[fromMtime.length - 1]) },
    client_event_loop_delay_ms: { p50: ms(percentile(lagSorted, 50)), p99: ms(percentile(lagSorted, 99)), max: ms(lagSorted[lagSorted.length - 1]) },
    closed_during_run: closes.length, close_codes: [...new Set(closes)],
    rss_before_kib: rssBefore, rss_after_kib: rssAfter, idle_seconds: IDLE_SECONDS, idle_cpu: idleCpu,
    rss_per_socket_kib: ms((rssAfter - rssBefore) / SOCKETS),
  };
  fs.writeFileSync(OUT, JSON.stringify(results, null, 2));
  console.log(JSON.stringify(results, null, 2));
}
