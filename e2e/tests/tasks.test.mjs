// One project's tasks: add, toggle done, open/done filter, search, edit,
// delete, paging and order.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  assertClean, createProjectViaUi, eventually, freshUserLoggedIn, launchBrowser, openPage, pageBatch, pageRpc,
  screenshot,
} from '../lib/harness.mjs';

describe('tasks', { timeout: 180_000 }, () => {
  let browser;
  let page;
  let problems;
  let projectId;

  const titles = () => page.getByTestId('task-title').allTextContents();
  const summary = () => page.getByTestId('task-summary').textContent();
  const taskByTitle = (title) => page.getByTestId('task-item')
    .filter({ has: page.getByTestId('task-title').getByText(title, { exact: true }) });

  async function addTask(title, description) {
    await page.locator('#new-task-title').fill(title);
    if (description) await page.locator('#new-task-desc').fill(description);
    await page.locator('#add-task').click();
    await taskByTitle(title).waitFor();
  }

  async function setStatus(value) {
    await page.locator('#task-status').selectOption(value);
  }

  before(async () => {
    browser = await launchBrowser();
    ({ page, problems } = await openPage(browser));
    await freshUserLoggedIn(page);
    projectId = await createProjectViaUi(page, 'Garden');
    await page.getByTestId('project-name').getByText('Garden', { exact: true }).click();
    await eventually(async () => assert.equal(await page.getByTestId('project-title').textContent(), 'Garden'));
  });

  after(async () => {
    await browser?.close();
  });

  test('a new project has no tasks', async () => {
    await eventually(async () => assert.match(await summary(), /no tasks yet/i));
  });

  test('adding tasks lists them newest first', async () => {
    await addTask('Water the roses', 'Every morning,\nbefore nine.');
    await addTask('Buy seeds');
    await addTask('Fix the fence');
    await eventually(async () => assert.deepEqual(await titles(), ['Fix the fence', 'Buy seeds', 'Water the roses']));
    assert.equal(await summary(), 'Showing 1–3 of 3 tasks.');
    assert.equal(await taskByTitle('Water the roses').getByTestId('task-desc').textContent(), 'Every morning,\nbefore nine.');
    assert.equal(await taskByTitle('Buy seeds').getByTestId('task-desc').count(), 0, 'no description, no paragraph');
    assert.equal(await page.locator('#new-task-title').inputValue(), '', 'the form is cleared');
    const listed = await pageRpc(page, 'list_tasks', { filters: { project_id: projectId } });
    assert.equal(listed.data.length, 3);
  });

  test('toggling a task marks it done on the server, and back', async () => {
    const task = taskByTitle('Buy seeds');
    await task.getByTestId('task-done').check();
    await eventually(async () => assert.equal(await taskByTitle('Buy seeds').getAttribute('data-done'), 'true'));
    const id = Number(await task.getAttribute('data-task-id'));
    assert.equal((await pageRpc(page, 'get_task', { id })).data.done, true);
    await page.reload();
    await taskByTitle('Buy seeds').waitFor();
    assert.equal(await taskByTitle('Buy seeds').getByTestId('task-done').isChecked(), true, 'still done after reload');
    await screenshot(page, 'tasks');

    await taskByTitle('Fix the fence').getByTestId('task-done').check();
    await eventually(async () => assert.equal(await taskByTitle('Fix the fence').getAttribute('data-done'), 'true'));
    await taskByTitle('Fix the fence').getByTestId('task-done').uncheck();
    await eventually(async () => assert.equal(await taskByTitle('Fix the fence').getAttribute('data-done'), 'false'));
  });

  test('the open/done filter shows only matching tasks', async () => {
    await setStatus('done');
    await eventually(async () => assert.deepEqual(await titles(), ['Buy seeds']));
    assert.equal(await summary(), 'Showing 1–1 of 1 task.');
    await setStatus('open');
    await eventually(async () => assert.deepEqual(await titles(), ['Fix the fence', 'Water the roses']));
    await setStatus('all');
    await eventually(async () => assert.equal((await titles()).length, 3));
  });

  test('search matches titles without regard to case', async () => {
    const box = page.locator('#task-search');
    await box.fill('THE');
    await box.press('Enter');
    await eventually(async () => assert.deepEqual(await titles(), ['Fix the fence', 'Water the roses']));
    assert.equal(await summary(), 'Showing 1–2 of 2 tasks.');
    await box.fill('roses');
    await eventually(async () => assert.deepEqual(await titles(), ['Water the roses']), { timeout: 5_000 });
    await box.fill('100%_\\');
    await box.press('Enter');
    await eventually(async () => assert.match(await summary(), /no tasks match/i));
    await setStatus('done');
    await box.fill('seeds');
    await box.press('Enter');
    await eventually(async () => assert.deepEqual(await titles(), ['Buy seeds']));
    await box.fill('roses');
    await box.press('Enter');
    await eventually(async () => assert.match(await summary(), /no tasks match/i), { timeout: 5_000 });
    await box.fill('');
    await setStatus('all');
    await eventually(async () => assert.equal((await titles()).length, 3));
  });

  test('editing changes the title and the description', async () => {
    const task = taskByTitle('Water the roses');
    const id = Number(await task.getAttribute('data-task-id'));
    await task.getByTestId('edit-task').click();
    await page.locator(`#edit-title-${id}`).fill('Water the tulips');
    await page.locator(`#edit-desc-${id}`).fill('Only in dry weather.');
    await page.locator(`[data-task-id="${id}"] [data-testid=save-task]`).click();
    await eventually(async () => assert.equal(await taskByTitle('Water the tulips').getByTestId('task-desc').textContent(),
      'Only in dry weather.'));
    const got = (await pageRpc(page, 'get_task', { id })).data;
    assert.equal(got.title, 'Water the tulips');
    assert.equal(got.description, 'Only in dry weather.');
    assert.equal(got.done, false, 'editing leaves done alone');
  });

  test('Escape cancels an edit', async () => {
    const task = taskByTitle('Fix the fence');
    const id = Number(await task.getAttribute('data-task-id'));
    await task.getByTestId('edit-task').click();
    await page.locator(`#edit-title-${id}`).fill('Never saved');
    await page.locator(`#edit-title-${id}`).press('Escape');
    await taskByTitle('Fix the fence').waitFor();
    assert.equal((await pageRpc(page, 'get_task', { id })).data.title, 'Fix the fence');
  });

  test('deleting a task asks first and then removes it', async () => {
    const task = taskByTitle('Fix the fence');
    const id = Number(await task.getAttribute('data-task-id'));
    await task.getByTestId('delete-task').click();
    await page.locator(`[data-task-id="${id}"] [data-testid=confirm-delete]`).click();
    // The row itself goes once the delete is done (while it asks, it shows no title).
    await page.locator(`[data-task-id="${id}"]`).waitFor({ state: 'detached' });
    await eventually(async () => assert.deepEqual(await titles(), ['Buy seeds', 'Water the tulips']));
    const [count] = await pageBatch(page, [{ method: 'count_tasks', params: { filters: { project_id: projectId } } }]);
    assert.equal(count.data, 2);
  });

  test('paging follows cursors forward and back through three pages, showing every task once', async () => {
    await pageBatch(page, Array.from({ length: 22 }, (_, i) => ({
      method: 'create_task',
      params: { data: { project_id: projectId, title: `Bulk ${String(i + 1).padStart(2, '0')}` } },
    })));
    // The expected order comes from the server's ids, whatever order the batch ran in.
    const newest = (await pageRpc(page, 'list_tasks', {
      filters: { project_id: projectId }, list_options: { order_bys: '!id' },
    })).data;
    const newestFirst = newest.map((t) => t.title);
    assert.equal(newestFirst.length, 24);
    const pageInfo = () => page.getByTestId('page-info').textContent();

    await page.reload();
    await eventually(async () => assert.equal(await summary(), 'Showing 1–10 of 24 tasks.'));
    const seen = [await titles()];
    assert.equal(await pageInfo(), 'Page 1 of 3');
    assert.equal(await page.getByTestId('prev-page').isDisabled(), true);

    await page.getByTestId('next-page').click();
    await eventually(async () => assert.equal(await summary(), 'Showing 11–20 of 24 tasks.'));
    seen.push(await titles());
    assert.equal(await pageInfo(), 'Page 2 of 3');
    await page.getByTestId('next-page').click();
    await eventually(async () => assert.equal(await summary(), 'Showing 21–24 of 24 tasks.'));
    seen.push(await titles());
    assert.equal(await pageInfo(), 'Page 3 of 3');
    assert.equal(await page.getByTestId('next-page').isDisabled(), true, 'the last page has no next cursor');
    assert.deepEqual(seen.flat(), newestFirst, 'every task once, in order');
    await screenshot(page, 'tasks-page-3');

    await page.getByTestId('prev-page').click();
    await eventually(async () => assert.equal(await pageInfo(), 'Page 2 of 3'));
    assert.deepEqual(await titles(), seen[1]);
    await page.getByTestId('prev-page').click();
    await eventually(async () => assert.equal(await pageInfo(), 'Page 1 of 3'));
    assert.deepEqual(await titles(), seen[0]);
    assert.equal(await page.getByTestId('prev-page').isDisabled(), true);

    // A task deleted elsewhere from a page already seen moves no other task past the pager
    // (paging by offset would now skip the first task of page 3).
    await page.getByTestId('next-page').click();
    await eventually(async () => assert.equal(await pageInfo(), 'Page 2 of 3'));
    await pageRpc(page, 'delete_task', { id: newest[0].id });
    await page.getByTestId('next-page').click();
    await eventually(async () => assert.equal(await summary(), 'Showing 20–23 of 23 tasks.'));
    assert.deepEqual(await titles(), newestFirst.slice(20));

    const oldestFirst = newestFirst.slice(1).reverse();
    await page.locator('#task-order').selectOption('id');
    await eventually(async () => assert.equal(await summary(), 'Showing 1–10 of 23 tasks.'));
    assert.deepEqual(await titles(), oldestFirst.slice(0, 10), 'oldest first, back on page 1');

    await page.locator('#task-search').fill('bulk');
    await page.locator('#task-search').press('Enter');
    await eventually(async () => assert.equal(await summary(), 'Showing 1–10 of 21 tasks.'));
    await page.getByTestId('next-page').click();
    await eventually(async () => assert.equal(await summary(), 'Showing 11–20 of 21 tasks.'));
    assert.deepEqual(await titles(), oldestFirst.filter((t) => t.startsWith('Bulk')).slice(10, 20));

    await page.getByTestId('prev-page').click();
    await eventually(async () => assert.equal(await pageInfo(), 'Page 1 of 3'));
  });

  test('nothing unsafe happened in the page', () => {
    assertClean(problems);
  });
});
