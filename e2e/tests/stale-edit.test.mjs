// An edit from a copy that changed elsewhere (another tab, another device) is refused as Stale,
// for tasks and projects alike:
// the page says so, shows the latest version, and the other change is kept.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  assertClean, createProjectViaUi, errorText, eventually, freshUserLoggedIn, launchBrowser, openPage, pageRpc,
  withoutLiveUpdates,
} from '../lib/harness.mjs';

describe('an edit of a task that changed elsewhere', { timeout: 120_000 }, () => {
  let browser;
  let page;
  let problems;
  let projectId;

  const taskByTitle = (title) => page.getByTestId('task-item')
    .filter({ has: page.getByTestId('task-title').getByText(title, { exact: true }) });

  /** Changes the task as another tab would: with the same session, behind this page's back. */
  async function changeElsewhere(id, data) {
    await pageRpc(page, 'update_task', { id, data });
  }

  before(async () => {
    browser = await launchBrowser();
    ({ page, problems } = await openPage(browser));
    // The other change must not reach the page before it acts (live updates would show it within
    // moments): the page stays as it was, as when that change lands just before the click.
    await withoutLiveUpdates(page);
    await freshUserLoggedIn(page);
    projectId = await createProjectViaUi(page, 'Shared');
    await page.getByTestId('project-name').getByText('Shared', { exact: true }).click();
    await page.locator('#new-task-title').fill('Paint the shed');
    await page.locator('#add-task').click();
    await taskByTitle('Paint the shed').waitFor();
  });

  after(async () => {
    await browser?.close();
  });

  test('ticking it off is refused, the latest version is shown, and the other change is kept', async () => {
    const [task] = (await pageRpc(page, 'list_tasks', { filters: { project_id: projectId } })).data;
    await changeElsewhere(task.id, { title: 'Paint the shed green' });

    // A click, not check(): check() asserts the box stays ticked, and the page may already have
    // shown the latest version (unticked) by the time it looks.
    await taskByTitle('Paint the shed').getByTestId('task-done').click();
    await eventually(async () => assert.match(await errorText(page), /changed elsewhere/));
    await taskByTitle('Paint the shed green').waitFor();
    assert.equal(await taskByTitle('Paint the shed green').getByTestId('task-done').isChecked(), false);
    const [now] = (await pageRpc(page, 'list_tasks', { filters: { project_id: projectId } })).data;
    assert.deepEqual([now.title, now.done], ['Paint the shed green', false], 'the other change stays, ours did not land');
  });

  test('saving an edit is refused the same way', async () => {
    const [task] = (await pageRpc(page, 'list_tasks', { filters: { project_id: projectId } })).data;
    await taskByTitle('Paint the shed green').getByTestId('edit-task').click();
    await page.locator(`#edit-title-${task.id}`).fill('Paint the shed blue');
    await changeElsewhere(task.id, { description: 'Two coats' });
    await page.getByTestId('save-task').click();
    await eventually(async () => assert.match(await errorText(page), /changed elsewhere/));
    await eventually(async () => assert.equal(
      await taskByTitle('Paint the shed green').getByTestId('task-desc').textContent(), 'Two coats'));
  });

  test('renaming a project renamed elsewhere is refused the same way', async () => {
    await page.goto('/#/projects');
    const item = page.getByTestId('project-item').filter({ has: page.getByTestId('project-name').getByText('Shared', { exact: true }) });
    await item.getByTestId('rename-project').click();
    await page.locator(`#rename-input-${projectId}`).fill('Ours');
    await pageRpc(page, 'update_project', { id: projectId, data: { name: 'Theirs' } });
    await page.getByTestId('save-rename').click();
    await eventually(async () => assert.match(await errorText(page), /changed elsewhere/));
    await page.getByTestId('project-name').getByText('Theirs', { exact: true }).waitFor();
    const project = await pageRpc(page, 'get_project', { id: projectId });
    assert.equal(project.data.name, 'Theirs', 'the other rename stays');
    assertClean(problems);
  });
});
