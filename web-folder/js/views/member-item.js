// One member in a project's members panel: their name and role, and what the caller may do to
// them. The owner changes another member's role, makes them owner (a transfer, confirmed first)
// or removes them (confirmed first); any other member may leave (confirmed first).

import { h, busy, replace } from '../dom.js';
import { aRole, canManage, roleLabel } from './roles.js';

/** @typedef {import('../../../clients/ts/src/api.gen.js').Member} Member */
/** @typedef {import('../../../clients/ts/src/api.gen.js').Project} Project */
/** @typedef {import('../../../clients/ts/src/api.gen.js').Role} Role */
/** @typedef {import('./members.js').Act} Act */

/**
 * @param {Member} member the Member from the server
 * @param {object} deps
 * @param {Project} deps.project the project as last shown (the caller's role)
 * @param {number} deps.meId the caller's user id
 * @param {Act} deps.act run a member
 *   method and say how it went; `opts`: `say(member)` the sentence for success, `focusId` where focus
 *   goes after, `ownRole` when the caller's own role changes, `leaving` when the caller leaves.
 *   Resolves to whether it went through.
 */
export function memberItem(member, { project, meId, act }) {
  const m = member;
  const isMe = m.user_id === meId;
  const ids = { project_id: m.project_id, user_id: m.user_id };
  const li = h('li', { class: 'item member', 'data-testid': 'member-item',
    dataset: { userId: String(m.user_id), role: m.role } });

  function button(id, testid, text, label, onClick, cls) {
    return h('button', { type: 'button', id: `${id}-${m.user_id}`, 'data-testid': testid, class: cls,
      'aria-label': label, text, on: { click: onClick } });
  }

  function actions() {
    if (canManage(project.role) && !isMe) {
      const other = m.role === 'viewer' ? 'editor' : 'viewer';
      return h('div', { class: 'actions' },
        button('member-change-role', 'change-role', `Make ${other}`, `Make ${m.username} ${aRole(other)}`,
          () => changeRole(other)),
        button('member-owner', 'make-owner', 'Make owner', `Make ${m.username} ${aRole('owner')}`, confirmTransfer),
        button('member-remove', 'remove-member', 'Remove', `Remove ${m.username}`, confirmRemove, 'danger'));
    }
    if (isMe && !canManage(project.role)) {
      return h('div', { class: 'actions' },
        button('member-leave', 'leave-project', 'Leave project', `Leave ${project.name}`, confirmLeave, 'danger'));
    }
    return null;
  }

  function showRow() {
    replace(li,
      h('div', { class: 'item-main' },
        h('span', { class: 'member-name', 'data-testid': 'member-name', text: m.username }),
        isMe ? h('span', { class: 'member-you', text: ' (you)' }) : null,
        ' ',
        h('span', { class: 'role-badge', 'data-testid': 'member-role', dataset: { role: m.role } },
          h('span', { class: 'visually-hidden', text: 'Role: ' }), roleLabel(m.role))),
      actions());
  }

  /** @param {Role} role */
  async function changeRole(role) {
    await busy(li, () => act('update_project_member', { ...ids, role }, {
      say: (got) => `“${got.username}” is now ${aRole(got.role)}.`,
      focusId: `member-change-role-${m.user_id}`,
    }));
  }

  /**
   * Replace the row with a question (`label` names the group for screen readers): the `yes`
   * button runs `run` (resolving to whether it went through); Cancel and Escape go back to the row,
   * with focus on the button whose id starts with `focusBack`.
   * @param {object} q
   * @param {string} q.label
   * @param {string} q.question
   * @param {string} q.yes the yes button's text
   * @param {() => Promise<boolean>} q.run
   * @param {string} q.focusBack
   */
  function confirm({ label, question, yes: yesText, run, focusBack }) {
    const back = () => {
      showRow();
      document.getElementById(`${focusBack}-${m.user_id}`)?.focus();
    };
    const yes = h('button', { type: 'button', class: 'danger', 'data-testid': 'confirm-member', text: yesText });
    const no = h('button', { type: 'button', 'data-testid': 'cancel-member', text: 'Cancel', on: { click: back } });
    const box = h('div', { class: 'confirm', role: 'group', 'aria-label': label },
      h('p', { text: question }), h('div', { class: 'actions' }, yes, no));
    box.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') back(); });
    yes.addEventListener('click', async () => {
      const ok = await busy(box, run);
      // Refused and not redrawn (a network failure, say): the row again, the message above it.
      if (!ok && li.contains(box)) back();
    });
    replace(li, box);
    no.focus();
  }

  function confirmTransfer() {
    confirm({
      label: 'Confirm transfer',
      question: `Make “${m.username}” the owner of “${project.name}”? You will become an editor: only `
        + `${m.username} will then be able to rename or delete the project and choose who shares it.`,
      yes: 'Yes, make owner',
      run: () => act('update_project_member', { ...ids, role: 'owner' }, {
        say: (got) => `“${got.username}” is now the owner of this project. You are an editor.`,
        ownRole: true,
      }),
      focusBack: 'member-owner',
    });
  }

  function confirmRemove() {
    confirm({
      label: 'Confirm removal',
      question: `Remove “${m.username}” from “${project.name}”? They will no longer see it or its tasks.`,
      yes: 'Yes, remove',
      run: () => act('remove_project_member', ids, {
        say: (got) => `Removed “${got.username}”.`,
        focusId: 'member-username',
      }),
      focusBack: 'member-remove',
    });
  }

  function confirmLeave() {
    confirm({
      label: 'Confirm leaving',
      question: `Leave “${project.name}”? You will no longer see it or its tasks, unless the owner adds you again.`,
      yes: 'Yes, leave',
      run: () => act('remove_project_member', ids, { leaving: true }),
      focusBack: 'member-leave',
    });
  }

  showRow();
  return li;
}
