// The load tool of the live-updates benchmark (bench/live/run.sh starts the server and calls it).
//
//   node live.mjs setup   signs up and logs in the users, makes their shared projects and first
//                         tasks; writes the state file (cookies, projects) for the other modes
//   node live.mjs checks  a few protocol checks with a user of its own (401, 403, 429, the 33rd
//                         subscription, unsubscribe, delete); prints PASS/FAIL lines, never fails
//   node live.mjs deliver memory per socket, then the writes and what the sockets received
//   node live.mjs hold    opens and subscribes the sockets, prints READY, holds them idle until
//                         SIGTERM (or LIVE_HOLD_MAX_SECONDS), then prints what arrived (must be 0)
//   node live.mjs report RESULTS_JSON AB_TXT   the Markdown table
//
// Every setting comes from the environment (run.sh sets them; defaults in lib.mjs). Every loop is
// bounded in count and in time.
//
// The entry point: dispatches on the mode. lib.mjs (settings, clock, HTTP, login), sockets.mjs
// (subscribers), and one file per mode: setup.mjs, checks.mjs, deliver.mjs, hold.mjs, report.mjs.
import { agent, log } from './lib.mjs';
import { setup } from './setup.mjs';
import { checks } from './checks.mjs';
import { deliver } from './deliver.mjs';
import { hold } from './hold.mjs';
import { report } from './report.mjs';

const mode = process.argv[2];
const modes = { setup, checks, deliver, hold, report: () => report(process.argv[3], process.argv[4]) };
if (!modes[mode]) {
  console.error('usage: node live.mjs setup|checks|deliver|hold|report RESULTS_JSON AB_TXT');
  process.exit(2);
}
try {
  await modes[mode]();
  agent.destroy();
  process.exit(0);
} catch (e) {
  log(`${mode} failed: ${e.stack || e.message}`);
  process.exit(1);
}
