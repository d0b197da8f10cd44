// The projects list: create, rename, delete, each project's task count and the caller's role
// in it. Only the owner of a project sees its rename and delete controls. It follows changes
// made elsewhere live: projects (listed again) and tasks created or deleted (counted again).

import { h, field, messageBox, busy, replace } from '../dom.js';
import { describeError } from '../errors.js';
import { keepFocus, plural } from './util.js';
import { canManage, roleLabel } from './roles.js';
import { liveRefresher, showRows } from './live-list.js';
import { live } from '../live.js';

/** @typedef {import('../app.js').Ctx} Ctx */
/** @typedef {import('../app.js').Shown} Shown */
/** @typedef {import('../rpc.js').RpcError} RpcError */
/** @typedef {import('../../../clients/ts/src/api.gen.js').Project} Project */
/** @typedef {import('../../../clients/ts/src/api.gen.js').CountTasksResult} CountTasksResult */

// One batch of count_tasks carries one call per project; the server takes at
// most 100 calls per batch, so the list shows at most that many projects.
const MAX_PROJECTS = 100;

/**
 * @param {Ctx} ctx
 * @returns {Shown}
 */
export function projectsView(ctx) {
  const { rpc } = ctx;
  const error = messageBox('error', 'error');
  const status = messageBox('info', 'status');
  const name = field({ label: 'New project name', id: 'new-project-name', name: 'name', required: true,
    autocomplete: 'off' });
  const createForm = h('form', { id: 'new-project-form', class: 'inline-form' },
    name.wrap, h('button', { type: 'submit', id: 'create-project', class: 'primary', text: 'Create project' }));
  const summary = h('p', { id: 'projects-summary', 'data-testid': 'projects-summary', 'aria-live': 'polite' });
  const list = h('ul', { id: 'project-list', class: 'items', 'data-testid': 'project-list', dataset: { state: 'loading' } });

  function fail(err) {
    if (err.kind === 'Unauthorized') return; // the app takes the user to the login view
    error.show(describeError(err));
  }

  // What is shown: the projects, each one's task count, and their rows by id.
  /** @type {Project[]} */
  let projects = [];
  let total = 0;
  /** @type {Map<number, CountTasksResult|RpcError>} count_tasks of each project, or why it failed */
  const counts = new Map();
  /** @type {Map<number, {li: HTMLElement, key: string}>} */
  const rows = new Map();
  let loadSeq = 0;
  const refresher = liveRefresher(() => load(true));
  // Tasks created or deleted elsewhere, by project: counted again together.
  /** @type {Set<number>} */
  const toCount = new Set();
  /** @type {ReturnType<typeof setTimeout>|null} */
  let countTimer = null;

  // A write refused because the list shown is out of date: the project changed elsewhere (renamed
  // in another tab: Stale, as writes carry the mtime shown in `if_mtime`), or the caller's role in
  // it did (no longer the owner: Forbidden). Show the latest version, then say why, and keep
  // focus on that project: its action when still shown, else its name.
  /**
   * @param {RpcError} err
   * @param {Project} p
   * @param {'rename'|'delete'} action
   */
  async function outdated(err, p, action) {
    await load();
    fail(err);
    (document.getElementById(`${action}-project-${p.id}`) ?? document.getElementById(`project-link-${p.id}`))?.focus();
  }

  /**
   * List the projects and count their tasks. A `quiet` load (a live refresh) keeps the rows that
   * have not changed or that the user is busy with, and says nothing when it fails.
   * @param {boolean} [quiet]
   */
  function load(quiet = false) {
    return quiet ? listProjects(true) : refresher.user(() => listProjects(false));
  }

  /** @param {boolean} quiet */
  async function listProjects(quiet) {
    const seq = ++loadSeq;
    if (!quiet) list.dataset.state = 'loading';
    /** @type {Project[]} */
    let listedProjects;
    /** @type {number} */
    let listedTotal;
    /** @type {(CountTasksResult|RpcError)[]} */
    let listedCounts;
    try {
      const [listed, counted] = await rpc.batch([
        { method: 'list_projects', params: { list_options: { order_bys: '!id', limit: MAX_PROJECTS } } },
        { method: 'count_projects', params: {} },
      ]);
      if (listed instanceof Error) throw listed;
      listedProjects = listed.data;
      listedTotal = counted instanceof Error ? listedProjects.length : counted.data;
      listedCounts = await rpc.batch(listedProjects.map((p) => ({
        method: 'count_tasks', params: { filters: { project_id: p.id } },
      })));
    } catch (err) {
      if (seq === loadSeq && !quiet) {
        fail(err);
        list.dataset.state = 'error';
      }
      return;
    }
    // A later load has started: its answer wins.
    if (seq !== loadSeq || !ctx.isCurrent()) return;
    projects = listedProjects;
    total = listedTotal;
    counts.clear();
    projects.forEach((p, i) => counts.set(p.id, listedCounts[i]));
    show(!quiet);
    list.dataset.state = 'ready';
  }

  /** @param {boolean} fresh every row anew (else keep those unchanged or in use) */
  function show(fresh) {
    keepFocus(() => {
      showRows(list, rows, projects, { fresh, make: (p) => projectItem(p, counts.get(p.id)),
        key: (p) => JSON.stringify([p, countText(counts.get(p.id))]) });
    });
    if (projects.length === 0) summary.textContent = 'No projects yet. Create one above.';
    else if (total > projects.length) summary.textContent = `Showing the newest ${projects.length} of ${total} projects.`;
    else summary.textContent = plural(total, 'project');
  }

  /** @param {CountTasksResult|RpcError|undefined} count */
  function countText(count) {
    return !count || count instanceof Error ? 'task count unavailable' : plural(count.data, 'task');
  }

  /** @param {number} projectId a project whose tasks changed elsewhere */
  function recount(projectId) {
    toCount.add(projectId);
    countTimer ??= setTimeout(async () => {
      countTimer = null;
      const ids = [...toCount].filter((id) => counts.has(id));
      toCount.clear();
      const seq = loadSeq;
      /** @type {(CountTasksResult|RpcError)[]} */
      let got;
      try {
        got = await rpc.batch(ids.map((id) => ({ method: 'count_tasks', params: { filters: { project_id: id } } })));
      } catch {
        return; // quietly: the next change or re-list counts again
      }
      // A load since then has counted them all.
      if (seq !== loadSeq || !ctx.isCurrent()) return;
      ids.forEach((id, i) => counts.set(id, got[i]));
      show(false);
    }, 100);
  }

  /**
   * @param {Project} p
   * @param {CountTasksResult|RpcError} count its count_tasks, or why it failed
   */
  function projectItem(p, count) {
    const li = h('li', { class: 'item', 'data-testid': 'project-item', dataset: { projectId: String(p.id) } });

    function showRow() {
      replace(li,
        h('div', { class: 'item-main' },
          h('a', { href: `#/projects/${p.id}`, class: 'project-link', id: `project-link-${p.id}`,
            'data-testid': 'project-name', text: p.name }),
          ' ',
          h('span', { class: 'role-badge', 'data-testid': 'project-role', dataset: { role: p.role } },
            h('span', { class: 'visually-hidden', text: 'Your role: ' }), roleLabel(p.role)),
          h('span', { class: 'count', 'data-testid': 'task-count', text: countText(count) })),
        canManage(p.role) && h('div', { class: 'actions' },
          h('button', { type: 'button', id: `rename-project-${p.id}`, 'data-testid': 'rename-project',
            'aria-label': `Rename ${p.name}`, text: 'Rename', on: { click: showRename } }),
          h('button', { type: 'button', id: `delete-project-${p.id}`, 'data-testid': 'delete-project',
            class: 'danger', 'aria-label': `Delete ${p.name}`, text: 'Delete', on: { click: showDelete } })));
    }

    function showRename() {
      const input = field({ label: `New name for “${p.name}”`, id: `rename-input-${p.id}`, name: 'name',
        value: p.name, required: true, autocomplete: 'off' });
      const form = h('form', { class: 'inline-form', 'data-testid': 'rename-form' },
        input.wrap,
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'save-rename', text: 'Save' }),
        h('button', { type: 'button', 'data-testid': 'cancel-rename', text: 'Cancel', on: { click: cancel } }));
      function cancel() {
        showRow();
        li.querySelector('[data-testid=rename-project]').focus();
      }
      form.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') cancel(); });
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        error.clear();
        const newName = input.control.value.trim();
        if (newName === p.name) {
          cancel();
          return;
        }
        try {
          await busy(form, () => rpc.call('update_project', { id: p.id, data: { name: newName }, if_mtime: p.mtime }));
        } catch (err) {
          if (err.kind === 'Stale' || err.kind === 'Forbidden') {
            await outdated(err, p, 'rename');
            return;
          }
          fail(err);
          input.control.focus();
          return;
        }
        status.show(`Renamed to “${newName}”.`);
        await load();
        document.getElementById(`rename-project-${p.id}`)?.focus();
      });
      replace(li, form);
      input.control.select();
      input.control.focus();
    }

    function showDelete() {
      const yes = h('button', { type: 'button', class: 'danger', 'data-testid': 'confirm-delete',
        text: 'Yes, delete', on: { click: doDelete } });
      const no = h('button', { type: 'button', 'data-testid': 'cancel-delete', text: 'Cancel',
        on: { click: () => { showRow(); li.querySelector('[data-testid=delete-project]').focus(); } } });
      const box = h('div', { class: 'confirm', role: 'group', 'aria-label': 'Confirm delete' },
        h('p', { text: `Delete “${p.name}” and all its tasks?` }), h('div', { class: 'actions' }, yes, no));
      box.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') no.click(); });
      replace(li, box);
      no.focus();

      async function doDelete() {
        error.clear();
        try {
          await busy(box, () => rpc.call('delete_project', { id: p.id, if_mtime: p.mtime }));
        } catch (err) {
          if (err.kind === 'Stale' || err.kind === 'Forbidden') await outdated(err, p, 'delete');
          else fail(err);
          return;
        }
        status.show(`Deleted “${p.name}”.`);
        await load();
        name.control.focus();
      }
    }

    showRow();
    return li;
  }

  createForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.clear();
    status.clear();
    const newName = name.control.value.trim();
    if (!newName) {
      error.show('Please enter a name for the project.');
      name.control.focus();
      return;
    }
    try {
      await busy(createForm, () => rpc.call('create_project', { data: { name: newName } }));
    } catch (err) {
      fail(err);
      name.control.focus();
      return;
    }
    name.control.value = '';
    status.show(`Created “${newName}”.`);
    await load();
    name.control.focus();
  });

  if (ctx.session.flash) {
    status.show(ctx.session.flash);
    ctx.session.flash = null;
  }
  load();
  const unwatch = [
    live.watch('project', undefined, { onChange: refresher.soon, onRelist: refresher.soon }),
    // Only a task created or deleted changes a count.
    live.watch('task', undefined, {
      onChange: (op, task) => { if (op !== 'update') recount(task.project_id); },
      onRelist: refresher.soon,
    }),
  ];
  ctx.onLeave(() => {
    unwatch.forEach((stop) => stop());
    refresher.stop();
    if (countTimer !== null) clearTimeout(countTimer);
  });

  const title = h('h1', { id: 'projects-title', tabindex: '-1', text: 'Projects' });
  const node = h('section', { 'aria-labelledby': 'projects-title' },
    title, error.el, status.el,
    createForm,
    h('h2', { class: 'visually-hidden', text: 'Your projects' }),
    summary, list);
  return { title: 'Projects', node, focus: title };
}
