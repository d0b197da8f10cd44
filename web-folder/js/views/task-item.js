// One task in the list: its done checkbox, and inline edit and delete. Every write carries the
// task's mtime as shown (`if_mtime`), so an edit made from a copy that changed elsewhere (another
// tab, another device) is refused as Stale instead of overwriting that change. A viewer sees the
// task read-only: its checkbox disabled, no edit or delete.

import { h, field, busy, replace } from '../dom.js';

/** @typedef {import('../../../clients/ts/src/api.gen.js').Task} Task */
/** @typedef {import('../../../clients/ts/src/api.gen.js').TaskForUpdate} TaskForUpdate */
/** @typedef {import('../rpc.js').RpcError} RpcError */

/**
 * @param {Task} task the Task from the server
 * @param {object} deps
 * @param {import('../rpc.js').RpcClient} deps.rpc
 * @param {(message: string, focusId?: string) => Promise<void>} deps.changed reload after a change
 * @param {(err: RpcError) => void} deps.fail show an RpcError in words
 * @param {boolean} deps.canEdit whether the caller's role lets them change tasks
 * @param {(err: RpcError) => Promise<void>} deps.outdated reload, then say why a write was refused:
 *   the task changed elsewhere (Stale) or the caller's role no longer allows it (Forbidden)
 * @param {(text: string) => void} deps.failText show an error sentence
 * @param {() => void} deps.clearError
 */
export function taskItem(task, { rpc, canEdit, changed, fail, outdated, failText, clearError }) {
  const t = task;
  const li = h('li', { class: 'item task', 'data-testid': 'task-item',
    dataset: { taskId: String(t.id), done: String(t.done) } });
  li.classList.toggle('is-done', t.done);

  function showRow() {
    const box = h('input', { type: 'checkbox', id: `task-done-${t.id}`, 'data-testid': 'task-done', checked: t.done,
      disabled: !canEdit });
    box.addEventListener('change', async () => {
      clearError();
      const done = box.checked;
      try {
        await busy(li, () => rpc.call('update_task', { id: t.id, data: { done }, if_mtime: t.mtime }));
      } catch (err) {
        box.checked = !done;
        if (err.kind === 'Stale' || err.kind === 'Forbidden') await outdated(err);
        else fail(err);
        return;
      }
      await changed(done ? `Marked “${t.title}” as done.` : `Marked “${t.title}” as open.`, box.id);
    });
    replace(li,
      h('div', { class: 'item-main' },
        h('div', { class: 'check' },
          box,
          h('label', { for: box.id, class: 'task-title', 'data-testid': 'task-title', text: t.title })),
        t.description ? h('p', { class: 'task-desc', 'data-testid': 'task-desc', text: t.description }) : null),
      canEdit && h('div', { class: 'actions' },
        h('button', { type: 'button', id: `edit-task-${t.id}`, 'data-testid': 'edit-task',
          'aria-label': `Edit ${t.title}`, text: 'Edit', on: { click: showEdit } }),
        h('button', { type: 'button', id: `delete-task-${t.id}`, 'data-testid': 'delete-task', class: 'danger',
          'aria-label': `Delete ${t.title}`, text: 'Delete', on: { click: showDelete } })));
  }

  function backToRow(focusTestId) {
    showRow();
    li.querySelector(`[data-testid=${focusTestId}]`)?.focus();
  }

  function showEdit() {
    const title = field({ label: 'Title', id: `edit-title-${t.id}`, name: 'title', value: t.title,
      required: true, autocomplete: 'off' });
    const desc = field({ label: 'Description', id: `edit-desc-${t.id}`, name: 'description', tag: 'textarea',
      rows: 3, value: t.description ?? '' });
    const form = h('form', { class: 'edit-form', 'data-testid': 'edit-form' },
      title.wrap, desc.wrap,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'save-task', text: 'Save' }),
        h('button', { type: 'button', 'data-testid': 'cancel-edit', text: 'Cancel',
          on: { click: () => backToRow('edit-task') } })));
    form.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') backToRow('edit-task'); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearError();
      /** @type {TaskForUpdate} */
      const data = {};
      const newTitle = title.control.value.trim();
      const newDesc = desc.control.value;
      if (!newTitle) {
        failText('A task needs a title.');
        title.control.focus();
        return;
      }
      if (newTitle !== t.title) data.title = newTitle;
      // An emptied description is sent as "" (clearing it), an untouched one not at all.
      if (newDesc !== (t.description ?? '')) data.description = newDesc;
      if (Object.keys(data).length === 0) {
        backToRow('edit-task');
        return;
      }
      try {
        await busy(form, () => rpc.call('update_task', { id: t.id, data, if_mtime: t.mtime }));
      } catch (err) {
        if (err.kind === 'Stale' || err.kind === 'Forbidden') {
          await outdated(err);
          return;
        }
        fail(err);
        title.control.focus();
        return;
      }
      await changed(`Saved “${newTitle}”.`, `edit-task-${t.id}`);
    });
    replace(li, form);
    title.control.focus();
  }

  function showDelete() {
    const no = h('button', { type: 'button', 'data-testid': 'cancel-delete', text: 'Cancel',
      on: { click: () => backToRow('delete-task') } });
    const yes = h('button', { type: 'button', class: 'danger', 'data-testid': 'confirm-delete', text: 'Yes, delete' });
    const box = h('div', { class: 'confirm', role: 'group', 'aria-label': 'Confirm delete' },
      h('p', { text: `Delete “${t.title}”?` }), h('div', { class: 'actions' }, yes, no));
    box.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') backToRow('delete-task'); });
    yes.addEventListener('click', async () => {
      clearError();
      try {
        await busy(box, () => rpc.call('delete_task', { id: t.id, if_mtime: t.mtime }));
      } catch (err) {
        if (err.kind === 'Stale' || err.kind === 'Forbidden') await outdated(err);
        else fail(err);
        return;
      }
      await changed(`Deleted “${t.title}”.`, 'new-task-title');
    });
    replace(li, box);
    no.focus();
  }

  showRow();
  return li;
}
