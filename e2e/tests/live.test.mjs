// Live updates (web-folder/js/live.js): two people in two browser contexts share a project; what
// one does shows in the other's page within seconds, without a reload: projects renamed, tasks
// created, edited, completed and deleted, task counts. The page's own changes show once; an edit in
// progress is not swept away; after a network drop or a 1013 close the page subscribes again and
// lists again, so a change made meanwhile still shows; a password change in one tab (1008 on the
// other's socket, whose session it ended) leaves the other signed in and live; logging off in one
// tab (1008, and no session left) takes the other tab to the login view.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  PASSWORD, assertClean, createProjectViaUi, errorText, eventually, freshUserLoggedIn, launchBrowser, openPage,
  pageRpc, screenshot,
} from '../lib/harness.mjs';

// How long a change may take to show in the other page (it takes well under a second).
const LIVE = { timeout: 5_000 };
// After a drop the page waits out its back-off (at most 10 s) before reconnecting.
const RECONNECT = { timeout: 15_000 };

describe('live updates', { timeout: 180_000 }, () => {
  let browser;
  let alice; // owns the project: {context, page, problems, name}
  let bob; // an editor of it, watching
  let projectId;
  /** Bob's page's sockets, in order: each with the messages it sent and received (parsed). */
  const bobSockets = [];
  const bobSocket = () => bobSockets.at(-1);
  /** Bob's responses of /api/rpc that listed tasks, and that asked who is signed in. */
  let bobTaskLists = 0;
  let bobGetMe = 0;

  const projectItem = (page) => page.locator(`[data-testid=project-item][data-project-id="${projectId}"]`);
  const taskByTitle = (page, title) => page.getByTestId('task-item')
    .filter({ has: page.getByTestId('task-title').getByText(title, { exact: true }) });
  const titles = (page) => page.getByTestId('task-title').allTextContents();

  /** Show the project's tasks, once the page says the caller is `role`. */
  async function showProject(page, role) {
    await page.goto(`/#/projects/${projectId}`);
    await eventually(async () => assert.match(await page.getByTestId('project-role').textContent(),
      new RegExp(`^Your role: ${role}\\.`)));
    await page.locator('#task-list[data-state=ready]').waitFor({ state: 'attached' });
  }

  async function addTask(page, title) {
    await page.locator('#new-task-title').fill(title);
    await page.locator('#add-task').click();
    await taskByTitle(page, title).waitFor();
  }

  const parse = (payload) => {
    try { return JSON.parse(String(payload)); } catch { return null; }
  };

  before(async () => {
    browser = await launchBrowser();
    alice = await openPage(browser);
    bob = await openPage(browser);
    bob.page.on('websocket', (ws) => {
      const socket = { ws, sent: [], received: [] };
      bobSockets.push(socket);
      ws.on('framesent', (f) => socket.sent.push(parse(f.payload)));
      ws.on('framereceived', (f) => socket.received.push(parse(f.payload)));
    });
    bob.page.on('response', (res) => {
      if (!res.url().endsWith('/api/rpc')) return;
      if (/"list_tasks"/.test(res.request().postData() ?? '')) bobTaskLists += 1;
      if (/"get_me"/.test(res.request().postData() ?? '')) bobGetMe += 1;
    });
    alice.name = await freshUserLoggedIn(alice.page);
    bob.name = await freshUserLoggedIn(bob.page);
    projectId = await createProjectViaUi(alice.page, 'Live garden');
    await pageRpc(alice.page, 'add_project_member', { project_id: projectId, username: bob.name, role: 'editor' });
  });

  after(async () => {
    await browser?.close();
  });

  test('the other user’s project list follows a rename and counts new tasks', async () => {
    await bob.page.goto('/#/projects');
    await projectItem(bob.page).waitFor();
    assert.equal(await projectItem(bob.page).getByTestId('task-count').textContent(), '0 tasks');

    await pageRpc(alice.page, 'create_task', { data: { project_id: projectId, title: 'Water the roses' } });
    await eventually(async () => assert.equal(await projectItem(bob.page).getByTestId('task-count').textContent(),
      '1 task'), LIVE);

    // Alice renames it through her page's form.
    await alice.page.goto('/#/projects');
    await projectItem(alice.page).getByTestId('rename-project').click();
    await alice.page.locator(`#rename-input-${projectId}`).fill('Live orchard');
    await alice.page.locator(`#rename-input-${projectId}`).press('Enter');
    await eventually(async () => assert.equal(await projectItem(bob.page).getByTestId('project-name').textContent(),
      'Live orchard'), LIVE);
    assert.equal(await bob.page.getByTestId('project-item').count(), 1, 'one row for the project');
    assert.match(await projectItem(bob.page).getByTestId('project-role').textContent(), /Editor$/);
    await screenshot(bob.page, 'live-projects');
  });

  test('a project created in one tab shows in the same user’s other tab', async () => {
    const tab = await bob.context.newPage();
    try {
      const id = await createProjectViaUi(tab, 'Bob’s allotment');
      const item = bob.page.locator(`[data-testid=project-item][data-project-id="${id}"]`);
      await eventually(async () => assert.equal(await item.getByTestId('project-name').textContent(),
        'Bob’s allotment'), LIVE);
      assert.equal(await bob.page.getByTestId('project-item').count(), 2);
    } finally {
      await tab.close();
    }
  });

  test('leaving the list unsubscribes it', async () => {
    const socket = bobSocket();
    const subscribed = socket.received.filter((m) => m?.result?.data?.subscription !== undefined)
      .map((m) => m.result.data.subscription);
    assert.equal(subscribed.length, 2, `the list subscribed to projects and tasks: ${JSON.stringify(socket.sent)}`);
    await showProject(bob.page, 'Editor');
    assert.equal(bobSocket(), socket, 'the same socket serves the next view');
    await eventually(async () => {
      const gone = socket.sent.filter((m) => m?.method === 'unsubscribe').map((m) => m.params.subscription);
      assert.deepEqual(gone.sort(), subscribed.sort());
    });
    const tasksSub = socket.sent.filter((m) => m?.method === 'subscribe' && m.params.entity === 'task').at(-1);
    assert.deepEqual(tasksSub.params.filters, { project_id: projectId }, 'the view subscribes to its project’s tasks');
  });

  test('tasks created, edited, completed and deleted by one user show in the other’s page', async () => {
    const { page } = bob;
    await eventually(async () => assert.equal(await page.getByTestId('project-title').textContent(), 'Live orchard'));
    await taskByTitle(page, 'Water the roses').waitFor();
    await showProject(alice.page, 'Owner');

    await addTask(alice.page, 'Buy seeds');
    await taskByTitle(page, 'Buy seeds').waitFor(LIVE);
    assert.deepEqual(await titles(page), ['Buy seeds', 'Water the roses']);
    assert.equal(await page.getByTestId('task-summary').textContent(), 'Showing 1–2 of 2 tasks.');

    const seeds = taskByTitle(alice.page, 'Buy seeds');
    const seedsId = Number(await seeds.getAttribute('data-task-id'));
    await seeds.getByTestId('edit-task').click();
    await alice.page.locator(`#edit-title-${seedsId}`).fill('Buy tulip bulbs');
    await alice.page.locator(`#edit-desc-${seedsId}`).fill('Red ones.');
    await alice.page.getByTestId('save-task').click();
    await eventually(async () => assert.equal(
      await taskByTitle(page, 'Buy tulip bulbs').getByTestId('task-desc').textContent(), 'Red ones.'), LIVE);
    assert.equal(await taskByTitle(page, 'Buy seeds').count(), 0);

    await taskByTitle(alice.page, 'Buy tulip bulbs').getByTestId('task-done').check();
    await eventually(async () => assert.equal(
      await taskByTitle(page, 'Buy tulip bulbs').getAttribute('data-done'), 'true'), LIVE);
    assert.equal(await taskByTitle(page, 'Buy tulip bulbs').getByTestId('task-done').isChecked(), true);

    const roses = taskByTitle(alice.page, 'Water the roses');
    const rosesId = Number(await roses.getAttribute('data-task-id'));
    await roses.getByTestId('delete-task').click();
    await alice.page.locator(`[data-task-id="${rosesId}"] [data-testid=confirm-delete]`).click();
    await eventually(async () => assert.deepEqual(await titles(page), ['Buy tulip bulbs']), LIVE);
    assert.equal(await page.getByTestId('task-summary').textContent(), 'Showing 1–1 of 1 task.');

    await pageRpc(alice.page, 'update_project', { id: projectId, data: { name: 'Live meadow' } });
    await eventually(async () => assert.equal(await page.getByTestId('project-title').textContent(), 'Live meadow'),
      LIVE);
    assert.equal(await page.title(), 'Live meadow · Tasks');
    await screenshot(page, 'live-tasks');
  });

  test('the page’s own change shows once, its notification notwithstanding', async () => {
    const { page } = bob;
    const listsBefore = bobTaskLists;
    const { received } = bobSocket();
    const before = received.length;
    await addTask(page, 'Mow the lawn');
    // The page listed again after adding, and again for the notification of its own change.
    await eventually(async () => assert.ok(received.slice(before).some((m) => m?.method === 'changed'
      && m.params.op === 'create' && m.params.data.title === 'Mow the lawn'), 'the notification came'), LIVE);
    await eventually(async () => assert.ok(bobTaskLists >= listsBefore + 2, `${bobTaskLists - listsBefore} lists`),
      LIVE);
    assert.deepEqual(await titles(page), ['Mow the lawn', 'Buy tulip bulbs']);
    await taskByTitle(alice.page, 'Mow the lawn').waitFor(LIVE);
    assert.deepEqual(await titles(alice.page), ['Mow the lawn', 'Buy tulip bulbs']);
  });

  test('an edit in progress stays open while the task changes elsewhere, and saving it is refused as Stale', async () => {
    const { page } = bob;
    const mow = taskByTitle(page, 'Mow the lawn');
    const id = Number(await mow.getAttribute('data-task-id'));
    const row = page.locator(`[data-task-id="${id}"]`);
    await mow.getByTestId('edit-task').click();
    await page.locator(`#edit-title-${id}`).fill('Mow the grass');
    const listsBefore = bobTaskLists;
    await pageRpc(alice.page, 'update_task', { id, data: { title: 'Mow the lawn twice' } });
    await eventually(async () => assert.ok(bobTaskLists > listsBefore, 'the page listed again'), LIVE);
    assert.equal(await row.getByTestId('edit-form').isVisible(), true, 'the form is still open');
    assert.equal(await page.locator(`#edit-title-${id}`).inputValue(), 'Mow the grass', 'with what was typed');

    await row.getByTestId('save-task').click();
    await eventually(async () => assert.match(await errorText(page), /changed elsewhere/));
    await taskByTitle(page, 'Mow the lawn twice').waitFor();
    assert.equal((await pageRpc(page, 'get_task', { id })).data.title, 'Mow the lawn twice', 'the other change stays');
  });

  // Chromium's offline emulation (context.setOffline) leaves open WebSockets open, so drops are
  // made by routing the page's socket through the test, which closes it as a proxy would.
  describe('a socket that drops', () => {
    let tab; // Bob's second tab, its socket routed through the test: {page, problems}
    /** The page's sockets as routed, in order; a new one waits for `gate` before reaching the server. */
    const routed = [];
    let gate = Promise.resolve();
    let openGate = () => {};

    before(async () => {
      const page = await bob.context.newPage();
      page.setDefaultTimeout(10_000);
      tab = { page, problems: { dialogs: [], pageErrors: [], csp: [] } };
      page.on('pageerror', (err) => tab.problems.pageErrors.push(String(err)));
      page.on('console', (msg) => {
        if (/Content Security Policy/i.test(msg.text())) tab.problems.csp.push(msg.text());
      });
      await page.routeWebSocket(/\/api\/ws$/, async (ws) => {
        routed.push(ws);
        await gate;
        ws.connectToServer();
      });
    });

    /**
     * Close the page's current socket with `code`, as the server or the network would; its next
     * socket waits at the gate (the server is unreachable) until `meanwhile` has run.
     */
    async function drop(code, meanwhile) {
      const n = routed.length;
      gate = new Promise((resolve) => { openGate = resolve; });
      await routed[n - 1].close({ code, reason: 'dropped by the test' });
      await eventually(async () => assert.equal(routed.length, n + 1, 'the page tries again'), RECONNECT);
      await meanwhile();
      openGate();
    }

    test('after a drop (1001), the page reconnects and shows what changed meanwhile', async () => {
      const { page } = tab;
      await showProject(page, 'Editor');
      await taskByTitle(page, 'Mow the lawn twice').waitFor();
      await eventually(async () => assert.equal(routed.length, 1));

      await drop(1001, async () => {
        await addTask(alice.page, 'Rake the leaves');
        assert.equal(await taskByTitle(page, 'Rake the leaves').count(), 0, 'not heard of yet');
      });
      await taskByTitle(page, 'Rake the leaves').waitFor(RECONNECT);
      assert.deepEqual(await titles(page), ['Rake the leaves', 'Mow the lawn twice', 'Buy tulip bulbs']);
      await screenshot(page, 'live-after-reconnect');

      // And it is live again.
      await taskByTitle(alice.page, 'Rake the leaves').getByTestId('task-done').check();
      await eventually(async () => assert.equal(
        await taskByTitle(page, 'Rake the leaves').getAttribute('data-done'), 'true'), LIVE);
    });

    test('after a 1013 close (fell behind), the page subscribes again and lists again', async () => {
      const { page } = tab;
      await drop(1013, async () => {
        const rake = taskByTitle(alice.page, 'Rake the leaves');
        const id = Number(await rake.getAttribute('data-task-id'));
        await rake.getByTestId('delete-task').click();
        await alice.page.locator(`[data-task-id="${id}"] [data-testid=confirm-delete]`).click();
        await eventually(async () => assert.equal(await taskByTitle(alice.page, 'Rake the leaves').count(), 0));
        assert.equal(await taskByTitle(page, 'Rake the leaves').count(), 1, 'not heard of yet');
      });
      await eventually(async () => assert.equal(await taskByTitle(page, 'Rake the leaves').count(), 0), RECONNECT);
      assert.deepEqual(await titles(page), ['Mow the lawn twice', 'Buy tulip bulbs']);
    });

    test('with 1008 after a password change in another tab: the page stays signed in and live', async () => {
      const { page } = bob;
      const sockets = bobSockets.length;
      const getMe = bobGetMe;
      // The browser's cookie now holds the new session; the page's socket was opened with the old.
      await pageRpc(tab.page, 'change_pwd', { old_pwd: PASSWORD, new_pwd: 'another garden secret' });
      await eventually(async () => {
        assert.equal(bobGetMe, getMe + 1, 'asked who is signed in once the socket closed (1008)');
        assert.equal(bobSockets.length, sockets + 1, 'connected again');
      }, LIVE);
      await addTask(alice.page, 'Prune the hedge');
      await taskByTitle(page, 'Prune the hedge').waitFor(LIVE);
      assert.equal(await page.locator('#nav').isVisible(), true, 'still signed in');
    });

    test('with 1008 (logged off in another tab): the page goes to the login view', async () => {
      const { page } = bob;
      const sockets = bobSockets.length;
      const getMe = bobGetMe;
      await tab.page.getByTestId('logoff').click();
      await tab.page.locator('#login-form').waitFor();
      await page.locator('#login-form').waitFor(LIVE);
      assert.match(await page.getByTestId('info').textContent(), /session has ended/i);
      await eventually(async () => assert.equal(bobGetMe, getMe + 1, 'asked once, after the close (1008)'));
      assert.equal(bobSockets.length, sockets, 'no reconnect: get_me was 401');
      await screenshot(page, 'live-session-ended');
    });

    test('nothing unsafe happened in the second tab', () => {
      assertClean(tab.problems);
    });
  });

  test('nothing unsafe happened in either page', () => {
    assertClean(alice.problems);
    assertClean(bob.problems);
  });
});
