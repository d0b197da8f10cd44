// Entry point: the hash router, the signed-in user, and the header. Views live
// in views/*.js; each gets a context and returns {title, node, focus?}.

import { rpc } from './rpc.js';
import { live } from './live.js';
import { h, replace } from './dom.js';
import { describeError } from './errors.js';
import { loginView, signupView } from './views/auth.js';
import { projectsView } from './views/projects.js';
import { tasksView } from './views/tasks.js';
import { passwordView } from './views/password.js';

/** @typedef {import('../../clients/ts/src/api.gen.js').UserInfo} UserInfo */
/** @typedef {import('./rpc.js').RpcClient} RpcClient */

/**
 * What the views share.
 * @typedef {object} Session
 * @property {UserInfo|null} me the signed-in user, once known
 * @property {string|null} flash a message the next view shows once
 * @property {string|null} returnTo where to go after logging in
 * @property {string|null} prefillUser the username to put in the login form after signing up
 */

/**
 * The context each view gets.
 * @typedef {object} Ctx
 * @property {RpcClient} rpc
 * @property {Session} session
 * @property {string[]} params the route's captures (a project's id)
 * @property {(hash: string) => void} navigate
 * @property {(me: UserInfo|null) => void} setMe
 * @property {() => Promise<UserInfo|null>} loadMe
 * @property {() => boolean} isCurrent whether the view is still the one shown
 * @property {(fn: () => void) => void} onLeave run `fn` when the view is left (its live updates
 *   stop there)
 */

/**
 * What a view returns: its title, its node, and what to focus (else the view's container).
 * @typedef {{title: string, node: HTMLElement, focus?: HTMLElement}} Shown
 */

/** @type {{re: RegExp, view: (ctx: Ctx) => Shown, isPublic?: boolean}[]} */
const ROUTES = [
  { re: /^#\/login$/, view: loginView, isPublic: true },
  { re: /^#\/signup$/, view: signupView, isPublic: true },
  { re: /^#\/projects$/, view: projectsView },
  { re: /^#\/projects\/(\d+)$/, view: tasksView },
  { re: /^#\/password$/, view: passwordView },
];
const HOME = '#/projects';

/**
 * What the views share: the signed-in user and one-shot messages between views.
 * @type {Session}
 */
const session = {
  me: null, // {id, username} once known
  flash: null, // shown once by the next view
  returnTo: null, // where to go after logging in
  prefillUser: null, // username to put in the login form after signing up
};

const viewEl = document.getElementById('view');
const navEl = document.getElementById('nav');
const whoamiEl = document.getElementById('whoami');

/** @param {string} hash */
function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

/** @param {UserInfo|null} me */
function setMe(me) {
  session.me = me;
  whoamiEl.textContent = me ? me.username : '';
  navEl.hidden = !me;
}

/**
 * Ask the server who is signed in; null when nobody is.
 * @returns {Promise<UserInfo|null>}
 */
async function loadMe() {
  try {
    const res = await rpc.call('get_me');
    setMe(res.data);
    return res.data;
  } catch (err) {
    if (err.kind === 'Unauthorized') return null;
    throw err;
  }
}

/** @param {string|null} message shown by the login view */
function goToLogin(message) {
  setMe(null);
  session.flash = message;
  const current = location.hash;
  if (!/^#\/(login|signup)$/.test(current)) session.returnTo = current;
  navigate('#/login');
}

// Any RPC answered 401 ends up here (a live socket closed because its session ended asks get_me,
// and so ends up here too when no newer session exists): the session is gone, so log in again.
function sessionEnded() {
  if (session.me) goToLogin('Your session has ended. Please log in again.');
}
rpc.addEventListener('unauthorized', sessionEnded);

document.getElementById('logoff').addEventListener('click', async () => {
  live.stop(); // before the server ends the session, which would close the socket as 1008
  try {
    await rpc.logoff();
  } catch (err) {
    // Already logged off (or the session expired) is what the user wanted anyway.
    if (err.kind !== 'Unauthorized') {
      showFatal(describeError(err));
      return;
    }
  }
  session.returnTo = null;
  goToLogin('You have logged off.');
});

/** @param {string} text */
function showFatal(text) {
  const retry = h('button', { type: 'button', id: 'retry', text: 'Try again', on: { click: render } });
  replace(viewEl, h('h1', { text: 'Something went wrong' }),
    h('p', { class: 'msg msg-error', role: 'alert', 'data-testid': 'error', text }), retry);
  retry.focus();
}

let renderSeq = 0;
/** @type {(() => void)[]} what to do when the view shown is left */
let onLeave = [];

async function render() {
  const seq = ++renderSeq;
  const leaving = onLeave;
  onLeave = [];
  for (const fn of leaving) fn();
  const hash = location.hash || HOME;
  let route = ROUTES.find((r) => r.re.test(hash));
  if (!route) {
    navigate(HOME);
    return;
  }
  const params = route.re.exec(hash).slice(1);

  if (!route.isPublic && !session.me) {
    let me;
    try {
      me = await loadMe();
    } catch (err) {
      if (seq === renderSeq) showFatal(describeError(err));
      return;
    }
    if (seq !== renderSeq) return;
    if (!me) {
      goToLogin(null);
      return;
    }
  }

  /** @type {Ctx} */
  const ctx = {
    rpc,
    session,
    params,
    navigate,
    setMe,
    loadMe,
    // Lets a view's async work notice that the user has moved on.
    isCurrent: () => seq === renderSeq,
    onLeave: (fn) => {
      if (seq === renderSeq) onLeave.push(fn);
      else fn(); // already left
    },
  };
  const { title, node, focus } = route.view(ctx);
  document.title = `${title} · Tasks`;
  replace(viewEl, node);
  viewEl.dataset.route = hash.split('/')[1] ?? '';
  (focus ?? viewEl).focus();
}

// The hash belongs to the router, so the skip link moves focus itself.
document.querySelector('.skip-link').addEventListener('click', (ev) => {
  ev.preventDefault();
  viewEl.focus();
});

window.addEventListener('hashchange', render);
if (!location.hash) history.replaceState(null, '', HOME);
render();
