// Phone width without sideways scrolling, labelled inputs, and the main
// actions done with the keyboard alone.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Api, PASSWORD, PHONE, assertClean, eventually, launchBrowser, openPage, pageBatch, randomUsername, screenshot,
} from '../lib/harness.mjs';

/** True when the page is no wider than the window. */
const fitsWidth = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

/** Every visible form control has a <label> (or is named by aria-label). */
const unlabelled = (page) => page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label'))
  .map((el) => el.id || el.name || el.outerHTML.slice(0, 60)));

/** Press Tab until the element with `id` has focus; fails after `max` presses. */
async function tabTo(page, id, max = 40) {
  for (let i = 0; i < max; i += 1) {
    if (await page.evaluate(() => document.activeElement?.id) === id) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`#${id} not reachable with Tab`);
}

describe('usable on a phone and with the keyboard', { timeout: 120_000 }, () => {
  let browser;
  let page;
  let problems;
  const username = randomUsername('kbd');

  before(async () => {
    browser = await launchBrowser();
    ({ page, problems } = await openPage(browser, { viewport: PHONE }));
    const api = new Api();
    assert.equal((await api.post('/api/signup', { username, pwd: PASSWORD })).status, 200);
  });

  after(async () => {
    await browser?.close();
  });

  test('the login and sign-up views fit a 360px screen and label their inputs', async () => {
    await page.goto('/#/signup');
    await page.locator('#signup-form').waitFor();
    assert.equal(await fitsWidth(page), true);
    assert.deepEqual(await unlabelled(page), []);
    await page.goto('/#/login');
    await page.locator('#login-form').waitFor();
    assert.equal(await fitsWidth(page), true);
    assert.deepEqual(await unlabelled(page), []);
    await screenshot(page, 'phone-login');
  });

  test('logging in works with the keyboard alone', async () => {
    // The login view puts focus in the username field.
    await eventually(async () => assert.equal(await page.evaluate(() => document.activeElement?.id), 'login-username'));
    await page.keyboard.type(username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await eventually(async () => assert.equal(await page.getByTestId('whoami').textContent(), username));
  });

  test('the skip link moves focus to the content without changing the route', async () => {
    await page.locator('.skip-link').focus();
    await page.keyboard.press('Enter');
    await eventually(async () => assert.equal(await page.evaluate(() => document.activeElement?.id), 'view'));
    assert.match(page.url(), /#\/projects$/);
  });

  test('a project can be created and renamed with the keyboard alone', async () => {
    await page.locator('#new-project-form').waitFor();
    await tabTo(page, 'new-project-name');
    await page.keyboard.type('Keyboard project');
    await page.keyboard.press('Enter');
    const item = page.getByTestId('project-item').first();
    await eventually(async () => assert.equal(await item.getByTestId('project-name').textContent(), 'Keyboard project'));
    const id = await item.getAttribute('data-project-id');

    await tabTo(page, `rename-project-${id}`);
    await page.keyboard.press('Enter');
    await eventually(async () => assert.equal(await page.evaluate(() => document.activeElement?.id), `rename-input-${id}`));
    await page.keyboard.type('Renamed by keys'); // the old name is selected, so typing replaces it
    await page.keyboard.press('Enter');
    await eventually(async () => assert.equal(await item.getByTestId('project-name').textContent(), 'Renamed by keys'));
  });

  test('the projects view fits a 360px screen with long names', async () => {
    const long = 'A-very-long-project-name-without-any-spaces-that-could-push-the-layout-sideways';
    await page.locator('#new-project-name').fill(long);
    await page.locator('#new-project-name').press('Enter');
    await page.getByTestId('project-name').getByText(long).waitFor();
    assert.equal(await fitsWidth(page), true);
    assert.deepEqual(await unlabelled(page), []);
    await screenshot(page, 'phone-projects');
  });

  test('a task can be added and marked done with the keyboard alone', async () => {
    const id = await page.getByTestId('project-item').last().getAttribute('data-project-id');
    await tabTo(page, `project-link-${id}`);
    await page.keyboard.press('Enter');
    await eventually(async () => assert.equal(await page.getByTestId('project-title').textContent(), 'Renamed by keys'));
    await tabTo(page, 'new-task-title');
    await page.keyboard.type('Typed task');
    await page.keyboard.press('Enter');
    const task = page.getByTestId('task-item').first();
    await eventually(async () => assert.equal(await task.getByTestId('task-title').textContent(), 'Typed task'));
    const taskId = await task.getAttribute('data-task-id');
    await tabTo(page, `task-done-${taskId}`);
    await page.keyboard.press('Space');
    await eventually(async () => assert.equal(await task.getAttribute('data-done'), 'true'));
  });

  test('the tasks view fits a 360px screen, with paging and long text', async () => {
    const projectId = Number(page.url().split('/').pop());
    await pageBatch(page, Array.from({ length: 11 }, (_, i) => ({
      method: 'create_task',
      params: { data: { project_id: projectId, title: `Phone task ${i + 1} ${'x'.repeat(i * 6)}`,
        description: i === 0 ? 'Some description that wraps over several lines on a narrow phone screen.' : undefined } },
    })));
    await page.reload();
    await eventually(async () => assert.equal(await page.getByTestId('page-info').textContent(), 'Page 1 of 2'));
    assert.equal(await fitsWidth(page), true);
    assert.deepEqual(await unlabelled(page), []);
    await screenshot(page, 'phone-tasks');
  });

  test('nothing unsafe happened in the page', () => {
    assertClean(problems);
  });
});
