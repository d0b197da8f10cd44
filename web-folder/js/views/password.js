// Change password. The server ends the user's other sessions and replaces this one (a new
// cookie); the live socket, opened with the old one, is closed meanwhile and opened again.

import { h, field, messageBox, busy } from '../dom.js';
import { describeError } from '../errors.js';
import { live } from '../live.js';

/** @typedef {import('../app.js').Ctx} Ctx */
/** @typedef {import('../app.js').Shown} Shown */

/**
 * @param {Ctx} ctx
 * @returns {Shown}
 */
export function passwordView(ctx) {
  const { rpc } = ctx;
  const error = messageBox('error', 'error');
  const status = messageBox('info', 'status');
  const oldPwd = field({ label: 'Current password', id: 'old-password', name: 'old_pwd', type: 'password',
    autocomplete: 'current-password', required: true });
  const newPwd = field({ label: 'New password', id: 'new-password', name: 'new_pwd', type: 'password',
    autocomplete: 'new-password', required: true, minlength: 8, hint: 'At least 8 characters.' });
  const newPwd2 = field({ label: 'Repeat new password', id: 'new-password2', name: 'new_pwd2', type: 'password',
    autocomplete: 'new-password', required: true });
  const form = h('form', { id: 'password-form', class: 'card' },
    oldPwd.wrap, newPwd.wrap, newPwd2.wrap,
    h('button', { type: 'submit', id: 'change-password', class: 'primary', text: 'Change password' }));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.clear();
    status.clear();
    if (newPwd.control.value !== newPwd2.control.value) {
      error.show('The two new passwords do not match.');
      newPwd2.control.focus();
      return;
    }
    try {
      await busy(form, () => live.whileSessionReplaced(
        () => rpc.call('change_pwd', { old_pwd: oldPwd.control.value, new_pwd: newPwd.control.value })));
    } catch (err) {
      if (err.kind === 'Unauthorized') return; // the app takes the user to the login view
      // The server names the param at fault: `old_pwd` when it is not the current password,
      // `new_pwd` when the new one breaks the rules (a value a password manager filled in
      // skips the form's own length check).
      error.show(describeError(err, {
        fields: {
          old_pwd: 'Your current password is not correct.',
          new_pwd: 'The new password must be 8 to 1024 bytes long.',
        },
      }));
      (err.field === 'new_pwd' ? newPwd : oldPwd).control.focus();
      return;
    }
    form.reset();
    status.show('Your password has been changed. Your other sessions have been logged off.');
    oldPwd.control.focus();
  });

  const title = h('h1', { id: 'password-title', tabindex: '-1', text: 'Change password' });
  const node = h('section', { class: 'narrow', 'aria-labelledby': 'password-title' },
    title, error.el, status.el, form);
  return { title: 'Change password', node, focus: oldPwd.control };
}
