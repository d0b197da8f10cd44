// A project's members panel (a disclosure in the project's view): who shares the project and in
// which role. The owner adds members by username, changes their roles, hands ownership over and
// removes members; anyone else may leave. Its messages are its own, next to its controls.

import { h, field, messageBox, busy, replace } from '../dom.js';
import { describeError } from '../errors.js';
import { memberItem } from './member-item.js';
import { aRole, canManage } from './roles.js';
import { keepFocus } from './util.js';

/** @typedef {import('../rpc.js').RpcError} RpcError */
/** @typedef {import('../errors.js').Overrides} Overrides */
/** @typedef {import('../../../clients/ts/src/api.gen.js').Methods} Methods */
/** @typedef {import('../../../clients/ts/src/api.gen.js').Project} Project */
/** @typedef {import('../../../clients/ts/src/api.gen.js').Member} Member */
/** @typedef {import('../../../clients/ts/src/api.gen.js').Role} Role */

/**
 * The methods a member's row runs (through `act`).
 * @typedef {'update_project_member' | 'remove_project_member'} MemberMethod
 */

/**
 * How `act` reports.
 * @typedef {object} ActOptions
 * @property {(member: Member) => string} [say] the sentence for success, from the member as answered
 * @property {string} [focusId] where focus goes after
 * @property {boolean} [ownRole] the caller's own role changes
 * @property {boolean} [leaving] the caller leaves the project
 */

/**
 * Run a member method for a row; resolves to whether it went through. `params.role`, when
 * given, is the role being set.
 * @typedef {<M extends MemberMethod>(method: M, params: Methods[M]['params'] & {role?: Role},
 *   opts: ActOptions) => Promise<boolean>} Act
 */

const GONE = 'This project no longer exists, or you are no longer a member of it.';

/**
 * @param {object} deps
 * @param {import('../rpc.js').RpcClient} deps.rpc
 * @param {number} deps.projectId
 * @param {number} deps.meId the caller's user id
 * @param {(focusId?: string) => Promise<void>} deps.refresh the caller's role changed, or may have:
 *   read the project again and show it (this panel included, through `show`)
 * @param {(projectName: string) => void} deps.left the caller has left the project
 * @returns {{node: HTMLElement, show: (project: Project) => Promise<void>}}
 */
export function membersPanel({ rpc, projectId, meId, refresh, left }) {
  /** @type {Project|null} */
  let project = null; // {name, role} as last shown
  let loadSeq = 0;

  const error = messageBox('error', 'members-error');
  const status = messageBox('info', 'members-status');
  const summary = h('summary', { id: 'members-summary', 'data-testid': 'members-summary', text: 'Members' });
  const list = h('ul', { id: 'member-list', class: 'items members', 'data-testid': 'member-list',
    'aria-labelledby': 'members-summary', dataset: { state: 'loading' } });
  const hint = h('p', { class: 'hint', id: 'members-hint', 'data-testid': 'members-hint' });

  const username = field({ label: 'Username', id: 'member-username', name: 'username', required: true,
    autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const role = field({ label: 'Role', id: 'member-role', tag: 'select', name: 'role' },
    h('option', { value: 'viewer', text: 'Viewer' }),
    h('option', { value: 'editor', text: 'Editor' }));
  const addForm = h('form', { id: 'add-member-form', class: 'inline-form', 'aria-label': 'Add a member' },
    username.wrap, role.wrap,
    h('button', { type: 'submit', id: 'add-member', class: 'primary', text: 'Add member' }));

  const node = h('details', { id: 'members', class: 'card members-panel', 'data-testid': 'members-panel' },
    summary, error.el, status.el, list, hint, addForm);

  // `sentences`: kind → the whole sentence for this panel's case (the server's detail is for
  // developers there), and `fields` as describeError takes them.
  /**
   * @param {RpcError} err
   * @param {Overrides} [sentences]
   */
  function fail(err, sentences = {}) {
    if (err.kind === 'Unauthorized') return; // the app takes the user to the login view
    error.show(sentences[err.kind] ?? describeError(err, { fields: sentences.fields }));
  }

  /**
   * Show the members of `p` (the project as just read) with what its role allows.
   * @param {Project} p
   */
  async function show(p) {
    project = p;
    const seq = ++loadSeq;
    const owner = canManage(p.role);
    addForm.hidden = !owner;
    hint.textContent = owner
      ? 'Editors can add, change and delete tasks; viewers can only see them. To leave this project, '
        + 'first make another member its owner.'
      : 'Only the owner can add or remove members and change their roles.';
    list.dataset.state = 'loading';
    /** @type {Member[]} */
    let members;
    try {
      members = (await rpc.call('list_project_members', { project_id: projectId })).data;
    } catch (err) {
      if (seq === loadSeq) {
        fail(err);
        list.dataset.state = 'error';
      }
      return;
    }
    if (seq !== loadSeq) return;
    summary.textContent = members.length > 1 ? `Members (${members.length})` : 'Members (only you)';
    keepFocus(() => {
      replace(list, members.map((m) => memberItem(m, { project, meId, act })));
    });
    list.dataset.state = 'ready';
  }

  /**
   * Run one member method for a row. A refusal because the panel is out of date (no longer the
   * owner: Forbidden; the member or the caller's membership gone: EntityNotFound) reads the
   * project again first, so what is shown matches what the caller may now do.
   * @template {MemberMethod} M
   * @param {M} method
   * @param {Methods[M]['params'] & {role?: Role}} params
   * @param {ActOptions} opts
   * @returns {Promise<boolean>}
   */
  async function act(method, params, { say, focusId, ownRole = false, leaving = false }) {
    error.clear();
    status.clear();
    /** @type {Member} */
    let got;
    try {
      got = (await rpc.call(method, params)).data;
    } catch (err) {
      const them = params.user_id === meId ? 'You are' : 'That person is';
      if (['Forbidden', 'EntityNotFound', 'Conflict'].includes(err.kind)) await refresh();
      fail(err, {
        EntityNotFound: err.data?.entity === 'member' ? `${them} no longer a member of this project.`
          : GONE,
        Conflict: params.role === 'owner'
          ? 'The members changed at the same time. The list now shows them as they are; try again.' : undefined,
      });
      return false;
    }
    if (leaving) {
      left(project.name);
      return true;
    }
    if (ownRole) await refresh('members-summary');
    else await show(project);
    status.show(say(got));
    if (focusId) document.getElementById(focusId)?.focus();
    return true;
  }

  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.clear();
    status.clear();
    const name = username.control.value.trim();
    if (!name) {
      error.show('Please enter the username of the person to add.');
      username.control.focus();
      return;
    }
    const newRole = role.control.value;
    /** @type {Member} */
    let got;
    try {
      got = (await busy(addForm, () => rpc.call('add_project_member',
        { project_id: projectId, username: name, role: newRole }))).data;
    } catch (err) {
      if (err.kind === 'Forbidden' || (err.kind === 'EntityNotFound' && err.data?.entity !== 'user')) await refresh();
      fail(err, {
        EntityNotFound: err.data?.entity === 'user' ? `No one has the username “${name}”. Please check the spelling.`
          : GONE,
        Conflict: `“${name}” is already a member of this project.`,
      });
      (addForm.hidden ? summary : username.control).focus();
      return;
    }
    username.control.value = '';
    await show(project);
    status.show(`Added “${got.username}” as ${aRole(got.role)}.`);
    username.control.focus();
  });

  return { node, show };
}
