// Mode `report RESULTS_JSON AB_TXT`: the Markdown table from deliver's results file and run.sh's
// create_task rounds (A without sockets, B with idle subscribers).
import fs from 'node:fs';

export function report(resultsPath, abPath) {
  const r = JSON.parse(fs.readFileSync(resultsPath, 'utf8'));
  const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '-');
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN; };
  const lines = [];
  lines.push(`Live updates: ${fmt(r.sockets)} WebSocket subscribers (${fmt(r.users)} users, ${r.projects} projects of ${r.sockets_per_project} subscribed sockets each, ${r.source_addrs} source addresses, extensions: ${r.extensions}); ` +
    `${fmt(r.rate)} writes/s for ${r.seconds} s (create_task and update_task, half each).`);
  lines.push('');
  lines.push('| measure | value |');
  lines.push('|---|---:|');
  lines.push(`| writes made / answered ok (rate reached) | ${fmt(r.writes_sent)} / ${fmt(r.writes_ok)} (${fmt(r.write_rate, 1)}/s) |`);
  lines.push(`| write p50 / p99 (HTTP) | ${fmt(r.write_p50_ms, 2)} / ${fmt(r.write_p99_ms, 2)} ms |`);
  lines.push(`| notifications expected / received / lost | ${fmt(r.expected)} / ${fmt(r.received)} / ${fmt(r.lost)} |`);
  const kinds = { duplicates: 'duplicate', wrongSubscription: 'wrong subscription id', wrongProject: 'other project',
    wrongOp: 'wrong op', unknownRow: 'no write of this run', forFailedWrites: 'of a failed write', outOfOrder: 'out of order',
    malformed: 'malformed', garbled: 'not JSON', strayAnswers: 'stray answers' };
  const wrong = Object.keys(kinds).filter((k) => r[k]).map((k) => `${fmt(r[k])} ${kinds[k]}`);
  lines.push(`| duplicate, misrouted, out-of-order or malformed notifications | ${wrong.length ? wrong.join(', ') : '0'} |`);
  lines.push(`| delivery after the write's HTTP answer (lower bound) p50 / p99 | ${fmt(r.latency_from_answer_ms.p50, 2)} / ${fmt(r.latency_from_answer_ms.p99, 2)} ms (${fmt(r.latency_from_answer_ms.negative_share * 100)}% before the answer) |`);
  lines.push(`| delivery after the row's \`mtime\` (upper bound) p50 / p99 | ${fmt(r.latency_from_mtime_ms.p50, 2)} / ${fmt(r.latency_from_mtime_ms.p99, 2)} ms |`);
  lines.push(`| load tool's event-loop delay p99 (part of the above) | ${fmt(r.client_event_loop_delay_ms.p99, 2)} ms |`);
  lines.push(`| sockets closed by the server during the run | ${fmt(r.closed_during_run)}${r.close_codes.length ? ` (codes ${r.close_codes.join(', ')})` : ''} |`);
  if (process.env.LIVE_SERVER_WARNINGS !== undefined) lines.push(`| warnings and errors in the server's log | ${fmt(Number(process.env.LIVE_SERVER_WARNINGS))} |`);
  lines.push(`| server memory per idle subscribed socket (VmRSS ${fmt(r.rss_before_kib / 1024, 1)} → ${fmt(r.rss_after_kib / 1024, 1)} MiB) | ${fmt(r.rss_per_socket_kib, 1)} KiB |`);
  const rounds = abPath && fs.existsSync(abPath)
    ? fs.readFileSync(abPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(/\s+/)) : [];
  if (rounds.length) {
    // lines: "A|B rps p50 p99 failures [notifications]"
    const side = (s) => rounds.filter((x) => x[0] === s).map((x) => x.slice(1).map(Number));
    const A = side('A');
    const B = side('B');
    const ratios = A.map((a, i) => (B[i] ? B[i][0] / a[0] : NaN)).filter(Number.isFinite);
    const fails = [...A, ...B].reduce((n, x) => n + x[3], 0);
    const delivered = B.reduce((n, x) => n + (x[4] || 0), 0);
    lines.push(`| create_task, no sockets: req/s, p99 (median of ${A.length}) | ${fmt(median(A.map((x) => x[0])))}, ${fmt(median(A.map((x) => x[2])), 2)} ms |`);
    lines.push(`| create_task, ${fmt(r.sockets)} idle subscribers: req/s, p99 (median of ${B.length}) | ${fmt(median(B.map((x) => x[0])))}, ${fmt(median(B.map((x) => x[2])), 2)} ms |`);
    lines.push(`| with / without subscribers (range) | ${fmt(median(ratios) * 100)}% (${fmt(Math.min(...ratios) * 100)}%-${fmt(Math.max(...ratios) * 100)}%) |`);
    lines.push(`| create_task failures; notifications the idle subscribers received | ${fmt(fails)}; ${fmt(delivered)} |`);
  }
  console.log(lines.join('\n'));
}
