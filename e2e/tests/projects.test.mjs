// The projects list: create, task counts (one batch), rename, delete.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Api, assertClean, assertFriendly, createProjectViaUi, errorText, eventually, freshUserLoggedIn, launchBrowser,
  openPage, pageBatch, pageRpc, screenshot, statusText,
} from '../lib/harness.mjs';

describe('projects', { timeout: 120_000 }, () => {
  let browser;
  let page;
  let problems;
  const rpcBodies = [];

  const item = (id) => page.locator(`[data-testid=project-item][data-project-id="${id}"]`);
  const names = () => page.getByTestId('project-name').allTextContents();

  before(async () => {
    browser = await launchBrowser();
    ({ page, problems } = await openPage(browser));
    page.on('request', (req) => {
      if (req.url().endsWith('/api/rpc') && req.method() === 'POST') rpcBodies.push(JSON.parse(req.postData()));
    });
    await freshUserLoggedIn(page);
  });

  after(async () => {
    await browser?.close();
  });

  let alpha;
  let beta;

  test('a new user has no projects', async () => {
    await eventually(async () => assert.match(await page.getByTestId('projects-summary').textContent(), /no projects/i));
    assert.equal(await page.getByTestId('project-item').count(), 0);
  });

  test('creating a project lists it with no tasks', async () => {
    alpha = await createProjectViaUi(page, 'Alpha');
    assert.ok(alpha > 0);
    assert.equal(await item(alpha).getByTestId('task-count').textContent(), '0 tasks');
    assert.match(await statusText(page), /Created “Alpha”/);
    assert.equal(await page.locator('#new-project-name').inputValue(), '', 'the form is cleared');
    beta = await createProjectViaUi(page, 'Beta');
    const listed = await pageRpc(page, 'list_projects', {});
    assert.deepEqual(listed.data.map((p) => p.name).sort(), ['Alpha', 'Beta']);
  });

  test('each project shows its task count, fetched in one batch', async () => {
    await pageBatch(page, [
      ...[1, 2, 3].map((i) => ({ method: 'create_task', params: { data: { project_id: alpha, title: `a${i}` } } })),
      { method: 'create_task', params: { data: { project_id: beta, title: 'b1' } } },
    ]);
    rpcBodies.length = 0;
    await page.reload();
    await eventually(async () => {
      assert.equal(await item(alpha).getByTestId('task-count').textContent(), '3 tasks');
      assert.equal(await item(beta).getByTestId('task-count').textContent(), '1 task');
    });
    // Each listing counts every project's tasks in one batch. The tasks created just before the
    // reload may still reach the page as live changes and list it again: one batch each time.
    const counts = (b) => (Array.isArray(b) ? b : [b]).filter((r) => r.method === 'count_tasks');
    const countBodies = rpcBodies.filter((b) => counts(b).length > 0);
    assert.ok(countBodies.length >= 1, 'the tasks were counted');
    for (const body of countBodies) {
      assert.ok(Array.isArray(body), 'counted in a batch, not call by call');
      assert.deepEqual(counts(body).map((r) => r.params.filters.project_id).sort(), [alpha, beta].sort());
    }
    await screenshot(page, 'projects');
  });

  test('renaming a project saves the new name', async () => {
    await item(alpha).getByTestId('rename-project').click();
    const input = page.locator(`#rename-input-${alpha}`);
    await input.fill('Alpha renamed');
    await input.press('Enter');
    await eventually(async () => assert.deepEqual((await names()).sort(), ['Alpha renamed', 'Beta']));
    const got = await pageRpc(page, 'get_project', { id: alpha });
    assert.equal(got.data.name, 'Alpha renamed');
  });

  test('Escape cancels a rename without saving', async () => {
    await item(beta).getByTestId('rename-project').click();
    const input = page.locator(`#rename-input-${beta}`);
    await input.fill('Should not stick');
    await input.press('Escape');
    await item(beta).getByTestId('project-name').waitFor();
    assert.equal(await item(beta).getByTestId('project-name').textContent(), 'Beta');
    const got = await pageRpc(page, 'get_project', { id: beta });
    assert.equal(got.data.name, 'Beta');
  });

  test('deleting asks first, then removes the project and its tasks', async () => {
    await item(alpha).getByTestId('delete-project').click();
    await item(alpha).getByTestId('cancel-delete').click();
    await item(alpha).getByTestId('project-name').waitFor();
    assert.equal((await names()).length, 2, 'cancel keeps the project');

    await item(alpha).getByTestId('delete-project').click();
    await item(alpha).getByTestId('confirm-delete').click();
    // The row itself goes once the delete is done (while it asks, it shows no name).
    await item(alpha).waitFor({ state: 'detached' });
    await eventually(async () => assert.deepEqual(await names(), ['Beta']));
    const [count, tasks] = await pageBatch(page, [
      { method: 'count_projects', params: {} },
      { method: 'count_tasks', params: { filters: { project_id: alpha } } },
    ]);
    assert.equal(count.data, 1);
    assert.equal(tasks.data, 0);
  });

  test('a project link opens its tasks', async () => {
    await item(beta).getByTestId('project-name').click();
    await eventually(async () => assert.equal(await page.getByTestId('project-title').textContent(), 'Beta'));
    assert.match(page.url(), new RegExp(`#/projects/${beta}$`));
    await page.locator('#back-to-projects').click();
    await item(beta).waitFor();
  });

  test('another user’s project is shown as not found, in words', async () => {
    const other = new Api();
    await other.signupAndLogin();
    const theirs = (await other.rpc('create_project', { data: { name: 'Not yours' } })).data.id;
    await page.goto(`/#/projects/${theirs}`);
    await eventually(async () => assert.equal(await page.getByTestId('project-title').textContent(), 'Project not found'));
    assertFriendly(await errorText(page));
    assert.equal(await page.locator('#new-task-form').isVisible(), false);
    await page.goto('/#/projects');
    await page.getByTestId('project-item').first().waitFor();
    assert.ok(!(await names()).includes('Not yours'));
  });

  test('nothing unsafe happened in the page', () => {
    assertClean(problems);
  });
});
