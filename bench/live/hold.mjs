// Mode `hold`: opens and subscribes the sockets, prints READY, holds them idle until SIGTERM (or
// LIVE_HOLD_MAX_SECONDS), then prints what arrived (must be 0); for the throughput comparison.
import { HOLD_MAX_SECONDS, nowMs } from './lib.mjs';
import { stats, loadState, makeSubs, openAll, closeAll } from './sockets.mjs';

export async function hold() {
  const state = loadState();
  const subs = makeSubs(state);
  await openAll(subs, (sub, params) => {
    stats.notifications++;
  });
  console.log(`READY ${subs.length}`);
  const t0 = nowMs();
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, HOLD_MAX_SECONDS * 1000);
    process.once('SIGTERM', () => { clearTimeout(timer); resolve(); });
    process.once('SIGINT', () => { clearTimeout(timer); resolve(); });
  });
  const closed = subs.filter((s) => s.closed).map((s) => s.closed.code);
  await closeAll(subs);
  console.log(`HOLD seconds=${((nowMs() - t0) / 1000).toFixed(1)} sockets=${subs.length} notifications=${stats.notifications} closed_by_server=${closed.length} codes=${[...new Set(closed)].join(',') || '-'}`);
}
