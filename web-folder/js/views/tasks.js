// One project's tasks: add, search, open/done filter, order, and paging, with the controls the
// caller's role allows (a viewer gets none). The project's name, role and members: project-head.js.
// Each page is one batch of list_tasks + count_tasks with the same filters, so
// the total always describes what the list shows. Pages follow the server's
// cursors: Next continues after the last task shown (next_cursor), and the
// cursor that started each page seen so far is kept for Previous, so a task
// added or deleted meanwhile never makes another one skipped or shown twice.
// Changes made elsewhere show live: the page shown is listed again (live-list.js), and the
// project's title follows a rename.

import { h, field, messageBox, busy } from '../dom.js';
import { describeError } from '../errors.js';
import { taskItem } from './task-item.js';
import { keepFocus, plural } from './util.js';
import { canEditTasks } from './roles.js';
import { projectHead } from './project-head.js';
import { liveRefresher, showRows } from './live-list.js';
import { live } from '../live.js';

/** @typedef {import('../app.js').Ctx} Ctx */
/** @typedef {import('../app.js').Shown} Shown */
/** @typedef {import('../rpc.js').RpcError} RpcError */
/** @typedef {import('../../../clients/ts/src/api.gen.js').Project} Project */
/** @typedef {import('../../../clients/ts/src/api.gen.js').TaskFilter} TaskFilter */
/** @typedef {import('../../../clients/ts/src/api.gen.js').TaskForCreate} TaskForCreate */
/** @typedef {import('../../../clients/ts/src/api.gen.js').ListTasksResult} ListTasksResult */
/** @typedef {import('../../../clients/ts/src/api.gen.js').CountTasksResult} CountTasksResult */

export const PAGE_SIZE = 10;
const SEARCH_DELAY_MS = 300;

/**
 * @param {Ctx} ctx
 * @returns {Shown}
 */
export function tasksView(ctx) {
  const { rpc } = ctx;
  const projectId = Number(ctx.params[0]);
  // starts[i] is the cursor page i + 1 was loaded from (null: the first page);
  // next is the cursor of the page after the one shown, null on the last page.
  /**
   * @type {{q: string, status: 'all'|'open'|'done', order: 'id'|'!id', starts: (string|null)[],
   *   next: string|null, total: number}}
   */
  const state = { q: '', status: 'all', order: '!id', starts: [null], next: null, total: 0 };
  const pageNo = () => state.starts.length;
  let loadSeq = 0;
  let searchTimer = null;
  /** @type {string|null} */
  let role = null; // the caller's role in the project, as last read
  /** @type {Map<number, {li: HTMLElement, key: string}>} the rows shown, by task id */
  const rows = new Map();
  // Live refreshes wait for the project's role (the controls each row gets).
  const refresher = liveRefresher(() => (role === null ? Promise.resolve() : load(undefined, true)));

  const error = messageBox('error', 'error');
  const status = messageBox('info', 'status');
  const head = projectHead(ctx, { projectId, fail, failText: error.show, shown, reloadTasks: () => load() });

  // Adding a task.
  const newTitle = field({ label: 'Task title', id: 'new-task-title', name: 'title', required: true,
    autocomplete: 'off' });
  const newDesc = field({ label: 'Description (optional)', id: 'new-task-desc', name: 'description',
    tag: 'textarea', rows: 2 });
  // Shown once the caller's role is known to allow it.
  const addForm = h('form', { id: 'new-task-form', class: 'card', hidden: true },
    h('h2', { text: 'Add a task' }),
    newTitle.wrap, newDesc.wrap,
    h('button', { type: 'submit', id: 'add-task', class: 'primary', text: 'Add task' }));

  // Finding tasks.
  const search = field({ label: 'Search titles', id: 'task-search', type: 'search', name: 'q', autocomplete: 'off' });
  const statusSel = field({ label: 'Show', id: 'task-status', tag: 'select', name: 'status' },
    h('option', { value: 'all', text: 'All tasks' }),
    h('option', { value: 'open', text: 'Open' }),
    h('option', { value: 'done', text: 'Done' }));
  const orderSel = field({ label: 'Order', id: 'task-order', tag: 'select', name: 'order' },
    h('option', { value: '!id', text: 'Newest first' }),
    h('option', { value: 'id', text: 'Oldest first' }));
  const filterForm = h('form', { id: 'task-filters', class: 'filters', role: 'search', 'aria-label': 'Find tasks' },
    search.wrap, statusSel.wrap, orderSel.wrap,
    h('button', { type: 'submit', id: 'task-search-submit', text: 'Search' }));

  const summary = h('p', { id: 'task-summary', 'data-testid': 'task-summary', 'aria-live': 'polite' });
  const list = h('ul', { id: 'task-list', class: 'items', 'data-testid': 'task-list', dataset: { state: 'loading' } });
  const prev = h('button', { type: 'button', id: 'prev-page', 'data-testid': 'prev-page', text: '‹ Previous' });
  const next = h('button', { type: 'button', id: 'next-page', 'data-testid': 'next-page', text: 'Next ›' });
  const pageInfo = h('span', { id: 'page-info', 'data-testid': 'page-info' });
  const pager = h('nav', { id: 'pager', class: 'pager', 'aria-label': 'Pages', hidden: true }, prev, pageInfo, next);
  const tasksSection = h('section', { 'aria-labelledby': 'tasks-heading' },
    h('h2', { id: 'tasks-heading', text: 'Tasks' }), filterForm, summary, list, pager);

  /** @param {RpcError} err */
  function fail(err) {
    if (err.kind === 'Unauthorized') return; // the app takes the user to the login view
    error.show(describeError(err));
  }

  /** @returns {TaskFilter} */
  function filters() {
    /** @type {TaskFilter} */
    const f = { project_id: projectId };
    if (state.q) f.title = { $containsCi: state.q };
    if (state.status === 'open') f.done = false;
    else if (state.status === 'done') f.done = true;
    return f;
  }

  /**
   * List the page shown. A `quiet` load (a live refresh) keeps the rows that have not changed or
   * that the user is busy with, and says nothing when it fails.
   * @param {string} [focusId] the id of the element to focus once the page is shown
   * @param {boolean} [quiet]
   */
  function load(focusId, quiet = false) {
    return quiet ? listPage(focusId, true) : refresher.user(() => listPage(focusId, false));
  }

  /**
   * @param {string|undefined} focusId
   * @param {boolean} quiet
   */
  async function listPage(focusId, quiet) {
    const seq = ++loadSeq;
    if (!quiet) {
      list.dataset.state = 'loading';
      list.setAttribute('aria-busy', 'true');
    }
    const f = filters();
    /** @type {ListTasksResult|RpcError} */
    let listed;
    /** @type {CountTasksResult|RpcError} */
    let counted;
    try {
      [listed, counted] = await rpc.batch([
        { method: 'list_tasks', params: { filters: f, list_options: {
          order_bys: state.order, limit: PAGE_SIZE, cursor: state.starts[pageNo() - 1] } } },
        { method: 'count_tasks', params: { filters: f } },
      ]);
      if (listed instanceof Error) throw listed;
      if (counted instanceof Error) throw counted;
    } catch (err) {
      if (seq === loadSeq && pageNo() > 1 && err.detail?.startsWith('list_options.cursor')) {
        // A cursor this server no longer opens (its key changed): start again from page 1.
        firstPage();
        await listPage(focusId, quiet);
        return;
      }
      if (seq === loadSeq && !quiet) {
        fail(err);
        list.dataset.state = 'error';
        list.removeAttribute('aria-busy');
      }
      return;
    }
    // A later load (newer filter, page) has started: its answer wins.
    if (seq !== loadSeq || !ctx.isCurrent()) return;

    if (listed.data.length === 0 && pageNo() > 1) {
      // This page emptied (its tasks deleted): show the one before it.
      state.starts.pop();
      await listPage(focusId, quiet);
      return;
    }
    state.total = counted.data;
    state.next = listed.next_cursor;
    const page = pageNo();
    // Without a next cursor this is the last page, whatever the total says (tasks
    // added or deleted on earlier pages shift where the pages break).
    const pages = state.next ? Math.max(page + 1, Math.ceil(state.total / PAGE_SIZE)) : page;
    const canEdit = canEditTasks(role);
    keepFocus(() => {
      showRows(list, rows, listed.data, { fresh: !quiet, key: (t) => JSON.stringify([t, canEdit]),
        make: (t) => taskItem(t, { rpc, canEdit, changed, fail, outdated, failText: error.show,
          clearError: error.clear }) });
    });
    if (focusId) document.getElementById(focusId)?.focus();

    // Where the first task shown stands: counted from the start, but on a last page
    // after the first counted back from the total, which tasks added or deleted on
    // earlier pages have moved.
    const first = page === 1 || state.next
      ? (page - 1) * PAGE_SIZE + 1
      : Math.max(1, state.total - listed.data.length + 1);
    if (state.total === 0) {
      if (state.q || state.status !== 'all') summary.textContent = 'No tasks match.';
      else summary.textContent = canEditTasks(role) ? 'No tasks yet. Add one above.' : 'No tasks yet.';
    } else {
      summary.textContent = `Showing ${first}–${first + listed.data.length - 1} of ${plural(state.total, 'task')}.`;
    }
    pageInfo.textContent = `Page ${page} of ${pages}`;
    prev.disabled = page <= 1;
    next.disabled = !state.next;
    pager.hidden = page <= 1 && !state.next;
    list.dataset.state = 'ready';
    list.removeAttribute('aria-busy');
  }

  // A write refused because what is shown is out of date: the task changed elsewhere (Stale), or the
  // caller's role did (Forbidden: read the project again). Show the latest version, then say why.
  /** @param {RpcError} err */
  async function outdated(err) {
    if (err.kind === 'Forbidden' && !(await head.read())) return;
    await load();
    fail(err);
    // The control that was refused may be gone with the role: keep focus in the view.
    if (document.activeElement === document.body) head.title.focus();
  }

  // The project as just read: show its tasks with what the caller's role allows (null: not at all).
  /** @param {Project|null} project */
  function shown(project) {
    role = project?.role ?? null;
    addForm.hidden = !canEditTasks(role);
    tasksSection.hidden = !project;
  }

  /**
   * @param {string} message
   * @param {string} [focusId]
   */
  async function changed(message, focusId) {
    status.show(message);
    await load(focusId);
  }

  function firstPage() {
    state.starts = [null];
    state.next = null;
  }

  function applyFilters() {
    clearTimeout(searchTimer);
    state.q = search.control.value.trim();
    state.status = statusSel.control.value;
    state.order = orderSel.control.value;
    firstPage();
    load();
  }

  filterForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyFilters();
  });
  search.control.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(applyFilters, SEARCH_DELAY_MS);
  });
  statusSel.control.addEventListener('change', applyFilters);
  orderSel.control.addEventListener('change', applyFilters);
  // A pager button that becomes disabled would drop keyboard focus: hand it to the other one.
  prev.addEventListener('click', async () => {
    if (pageNo() <= 1) return;
    state.starts.pop();
    await load();
    if (prev.disabled && !next.disabled) next.focus();
  });
  next.addEventListener('click', async () => {
    if (!state.next) return;
    state.starts.push(state.next);
    state.next = null; // a second click before the page arrives must not skip one
    await load();
    if (next.disabled && !prev.disabled) prev.focus();
  });

  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.clear();
    status.clear();
    const t = newTitle.control.value.trim();
    if (!t) {
      error.show('A task needs a title.');
      newTitle.control.focus();
      return;
    }
    /** @type {TaskForCreate} */
    const data = { project_id: projectId, title: t };
    if (newDesc.control.value.trim()) data.description = newDesc.control.value;
    try {
      await busy(addForm, () => rpc.call('create_task', { data }));
    } catch (err) {
      if (err.kind === 'Forbidden') {
        await outdated(err);
        return;
      }
      fail(err);
      newTitle.control.focus();
      return;
    }
    addForm.reset();
    newTitle.control.focus();
    // Newest first: the new task is at the top of page 1.
    if (state.order === '!id') firstPage();
    await changed(`Added “${t}”.`);
  });

  async function start() {
    if (await head.read()) await load();
  }
  start();
  const unwatch = [
    live.watch('task', { project_id: projectId }, { onChange: refresher.soon, onRelist: refresher.soon }),
    live.watch('project', { id: projectId }, {
      onChange: (op, p) => (op === 'delete' ? head.read() : head.renamed(p)),
      onRelist: head.reread,
    }),
  ];
  ctx.onLeave(() => {
    unwatch.forEach((stop) => stop());
    refresher.stop();
  });

  const node = h('div', { class: 'tasks-view' },
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/projects', id: 'back-to-projects', text: '‹ All projects' })),
    head.title, head.roleLine, error.el, status.el, head.panel, addForm, tasksSection);
  return { title: 'Project', node, focus: head.title };
}
