// The two views for people who are not signed in: log in and sign up.

import { h, field, messageBox, busy } from '../dom.js';
import { describeError } from '../errors.js';
import { RpcError } from '../rpc.js';

/** @typedef {import('../app.js').Ctx} Ctx */
/** @typedef {import('../app.js').Shown} Shown */

// The server's rule (RFC 8265 usernames with UTS #39 checks), in words.
const USERNAME_HINT = '3 to 64 letters or digits, all of one script (punctuation such as . _ - is fine); '
  + 'no spaces or invisible characters. Not case-sensitive: "Alice" and "alice" are the same name.';
const USERNAME_TAKEN = 'That username, or one that looks just like it, is already taken. Please choose another one.';
const PASSWORD_HINT = 'At least 8 characters.';

/**
 * @param {Ctx} ctx
 * @returns {Shown}
 */
export function loginView(ctx) {
  const { rpc, session } = ctx;
  const info = messageBox('info', 'info');
  const error = messageBox('error', 'error');
  const user = field({ label: 'Username', id: 'login-username', name: 'username', autocomplete: 'username',
    required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pwd = field({ label: 'Password', id: 'login-password', name: 'password', type: 'password',
    autocomplete: 'current-password', required: true });

  if (session.flash) {
    info.show(session.flash);
    session.flash = null;
  }
  if (session.prefillUser) {
    user.control.value = session.prefillUser;
    session.prefillUser = null;
  }

  const form = h('form', { id: 'login-form', class: 'card' },
    user.wrap, pwd.wrap,
    h('button', { type: 'submit', id: 'login-submit', class: 'primary', text: 'Log in' }));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.clear();
    info.clear();
    try {
      await busy(form, async () => {
        await rpc.login(user.control.value.trim(), pwd.control.value);
        if (!(await ctx.loadMe())) throw new Error('no session after login');
      });
    } catch (err) {
      error.show(err instanceof RpcError ? describeError(err)
        : 'You are logged in, but the browser did not keep the session. Please check that cookies are allowed.');
      pwd.control.value = '';
      pwd.control.focus();
      return;
    }
    const target = session.returnTo ?? '#/projects';
    session.returnTo = null;
    ctx.navigate(target);
  });

  const node = h('section', { class: 'narrow', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title', text: 'Log in' }),
    info.el, error.el, form,
    h('p', {}, 'No account yet? ', h('a', { href: '#/signup', id: 'to-signup', text: 'Sign up' })));
  return { title: 'Log in', node, focus: user.control.value ? pwd.control : user.control };
}

/**
 * @param {Ctx} ctx
 * @returns {Shown}
 */
export function signupView(ctx) {
  const { rpc, session } = ctx;
  const error = messageBox('error', 'error');
  const user = field({ label: 'Username', id: 'signup-username', name: 'username', autocomplete: 'username',
    required: true, minlength: 3, maxlength: 64, autocapitalize: 'none', spellcheck: 'false',
    hint: USERNAME_HINT });
  const pwd = field({ label: 'Password', id: 'signup-password', name: 'password', type: 'password',
    autocomplete: 'new-password', required: true, minlength: 8, hint: PASSWORD_HINT });
  const pwd2 = field({ label: 'Repeat password', id: 'signup-password2', name: 'password2', type: 'password',
    autocomplete: 'new-password', required: true });

  const form = h('form', { id: 'signup-form', class: 'card' },
    user.wrap, pwd.wrap, pwd2.wrap,
    h('button', { type: 'submit', id: 'signup-submit', class: 'primary', text: 'Create account' }));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.clear();
    if (pwd.control.value !== pwd2.control.value) {
      error.show('The two passwords do not match.');
      pwd2.control.focus();
      return;
    }
    const username = user.control.value.trim();
    try {
      await busy(form, () => rpc.signup(username, pwd.control.value));
    } catch (err) {
      error.show(describeError(err, {
        InvalidInput: `Please check what you entered. Username: ${USERNAME_HINT} Password: ${PASSWORD_HINT}`,
        UsernameTaken: USERNAME_TAKEN,
      }));
      (err.kind === 'UsernameTaken' ? user.control : pwd.control).focus();
      return;
    }
    session.flash = 'Your account has been created. Please log in.';
    session.prefillUser = username;
    ctx.navigate('#/login');
  });

  const node = h('section', { class: 'narrow', 'aria-labelledby': 'signup-title' },
    h('h1', { id: 'signup-title', text: 'Sign up' }),
    error.el, form,
    h('p', {}, 'Already have an account? ', h('a', { href: '#/login', id: 'to-login', text: 'Log in' })));
  return { title: 'Sign up', node, focus: user.control };
}
