// Shared projects, with two people in two browser contexts (a cookie jar each): the owner shares a
// project, each side's role decides the controls it sees, ownership changes hands, a member
// leaves, and a page whose role went stale meanwhile says so in words and catches up.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Api, DESKTOP, PHONE, assertClean, assertFriendly, createProjectViaUi, errorText, eventually, freshUserLoggedIn,
  launchBrowser, openPage, pageRpc, randomUsername, screenshot, statusText, withoutLiveUpdates,
} from '../lib/harness.mjs';

describe('shared projects', { timeout: 180_000 }, () => {
  let browser;
  let alice; // creates the project, so its owner at first: {context, page, problems, name}
  let bob; // added as a viewer, later editor, later owner
  let projectId;
  const PROJECT = 'Shared garden';

  const projectItem = (page) => page.locator(`[data-testid=project-item][data-project-id="${projectId}"]`);
  const taskByTitle = (page, title) => page.getByTestId('task-item')
    .filter({ has: page.getByTestId('task-title').getByText(title, { exact: true }) });
  /** A member's row in the panel, found by user id: it stays the same row while it asks to confirm. */
  const memberRow = (page, user) => page.locator(`[data-testid=member-item][data-user-id="${user.id}"]`);
  const roleLine = (page) => page.getByTestId('project-role').textContent();
  const membersStatus = (page) => page.getByTestId('members-status').textContent();
  const membersError = (page) => page.getByTestId('members-error').textContent();
  /** Buttons that manage members (the owner's), wherever they are in the panel. */
  const managing = (page) => page.locator('#members').getByTestId(/^(change-role|make-owner|remove-member)$/);

  /** Show the project's view afresh (a reload when already there) once it says the caller is `role`. */
  async function showProject(page, role) {
    if (page.url().endsWith(`#/projects/${projectId}`)) await page.reload();
    else await page.goto(`/#/projects/${projectId}`);
    await eventually(async () => assert.match(await roleLine(page), new RegExp(`^Your role: ${role}\\.`)));
  }

  /** Open the members panel (a disclosure) and wait for its list. */
  async function openMembers(page) {
    if (!(await page.locator('#members').evaluate((d) => d.open))) await page.getByTestId('members-summary').click();
    await page.locator('#member-list[data-state=ready]').waitFor();
  }

  /** Show the projects list afresh and wait for it. */
  async function showProjects(page) {
    if (page.url().endsWith('#/projects')) await page.reload();
    else await page.goto('/#/projects');
    await page.locator('#project-list[data-state=ready]').waitFor({ state: 'attached' });
  }

  async function addMember(page, username, role) {
    await page.locator('#member-username').fill(username);
    await page.locator('#member-role').selectOption(role);
    await page.locator('#add-member').click();
  }

  before(async () => {
    browser = await launchBrowser();
    alice = await openPage(browser);
    bob = await openPage(browser);
    alice.name = await freshUserLoggedIn(alice.page);
    bob.name = await freshUserLoggedIn(bob.page);
    alice.id = (await pageRpc(alice.page, 'get_me')).data.id;
    bob.id = (await pageRpc(bob.page, 'get_me')).data.id;
    projectId = await createProjectViaUi(alice.page, PROJECT);
  });

  after(async () => {
    await browser?.close();
  });

  test('the owner sees their role, and adds the other user as a viewer', async () => {
    const { page } = alice;
    assert.match(await projectItem(page).getByTestId('project-role').textContent(), /Owner$/);
    await showProject(page, 'Owner');
    assert.equal(await page.locator('#new-task-form').isVisible(), true);
    await openMembers(page);
    assert.equal(await page.getByTestId('members-summary').textContent(), 'Members (only you)');
    assert.match(await memberRow(page, alice).getByTestId('member-role').textContent(), /Owner$/);
    assert.equal(await memberRow(page, alice).getByRole('button').count(), 0, 'the owner cannot leave or demote themselves');

    // A username nobody has is refused in words.
    await addMember(page, randomUsername('nobody'), 'viewer');
    await eventually(async () => assert.match(await membersError(page), /No one has the username/));
    assertFriendly(await membersError(page));

    await addMember(page, bob.name, 'viewer');
    await eventually(async () => assert.equal(await membersStatus(page), `Added “${bob.name}” as a viewer.`));
    assert.equal(await page.getByTestId('members-error').isVisible(), false, 'the earlier error is gone');
    assert.equal(await page.locator('#member-username').inputValue(), '', 'the form is cleared');
    assert.equal(await memberRow(page, bob).getByTestId('member-name').textContent(), bob.name);
    assert.match(await memberRow(page, bob).getByTestId('member-role').textContent(), /Viewer$/);
    assert.match(await memberRow(page, alice).textContent(), /\(you\)/);
    assert.equal(await page.getByTestId('members-summary').textContent(), 'Members (2)');

    // Adding them twice is refused in words.
    await addMember(page, bob.name, 'editor');
    await eventually(async () => assert.equal(await membersError(page), `“${bob.name}” is already a member of this project.`));

    const members = await pageRpc(page, 'list_project_members', { project_id: projectId });
    assert.deepEqual(members.data.map((m) => [m.username, m.role]), [[alice.name, 'owner'], [bob.name, 'viewer']]);
    await screenshot(page, 'sharing-owner-members');
  });

  test('the members panel fits a 360px screen', async () => {
    const { page } = alice;
    await page.setViewportSize(PHONE);
    try {
      await eventually(async () => assert.equal(
        await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true));
      assert.equal(await memberRow(page, bob).getByTestId('remove-member').isVisible(), true);
      await screenshot(page, 'sharing-phone-members');
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });

  test('the viewer sees the project with role viewer and no editing controls', async () => {
    const { page } = bob;
    await pageRpc(alice.page, 'create_task', { data: { project_id: projectId, title: 'Water the roses' } });
    await showProjects(page);
    assert.match(await projectItem(page).getByTestId('project-role').textContent(), /Viewer$/);
    assert.equal(await projectItem(page).getByTestId('task-count').textContent(), '1 task');
    assert.equal(await projectItem(page).getByRole('button').count(), 0, 'no rename or delete');

    await showProject(page, 'Viewer');
    assert.match(await roleLine(page), /not change them/);
    await taskByTitle(page, 'Water the roses').waitFor();
    assert.equal(await page.locator('#new-task-form').isVisible(), false, 'no form to add tasks');
    assert.equal(await page.getByTestId('edit-task').count(), 0);
    assert.equal(await page.getByTestId('delete-task').count(), 0);
    assert.equal(await taskByTitle(page, 'Water the roses').getByTestId('task-done').isDisabled(), true);

    await openMembers(page);
    assert.equal(await page.locator('#add-member-form').isVisible(), false);
    assert.equal(await managing(page).count(), 0);
    assert.match(await page.getByTestId('members-hint').textContent(), /Only the owner/);
    assert.equal(await memberRow(page, bob).getByTestId('leave-project').isVisible(), true);
    assert.match(await memberRow(page, alice).getByTestId('member-role').textContent(), /Owner$/);
    await screenshot(page, 'sharing-viewer');
  });

  test('the owner promotes the viewer to editor', async () => {
    const { page } = alice;
    const toggle = memberRow(page, bob).getByTestId('change-role');
    assert.equal(await toggle.textContent(), 'Make editor');
    await toggle.click();
    await eventually(async () => assert.equal(await membersStatus(page), `“${bob.name}” is now an editor.`));
    assert.match(await memberRow(page, bob).getByTestId('member-role').textContent(), /Editor$/);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Make viewer',
      'focus stays on the (redrawn) role button');
    const members = await pageRpc(page, 'list_project_members', { project_id: projectId });
    assert.equal(members.data.find((m) => m.username === bob.name).role, 'editor');
  });

  test('after a reload the editor can add a task, which the owner sees after a reload', async () => {
    await showProject(bob.page, 'Editor');
    await bob.page.locator('#new-task-title').fill('Planted by the editor');
    await bob.page.locator('#add-task').click();
    await taskByTitle(bob.page, 'Planted by the editor').waitFor();
    assert.match(await statusText(bob.page), /Added “Planted by the editor”/);
    assert.equal(await taskByTitle(bob.page, 'Water the roses').getByTestId('edit-task').isVisible(), true);

    await showProject(alice.page, 'Owner');
    await taskByTitle(alice.page, 'Planted by the editor').waitFor();
  });

  test('the editor cannot rename or delete the project, nor manage its members', async () => {
    const { page } = bob;
    await openMembers(page);
    assert.equal(await page.locator('#add-member-form').isVisible(), false);
    assert.equal(await managing(page).count(), 0);
    assert.equal(await memberRow(page, bob).getByTestId('leave-project').isVisible(), true);

    await showProjects(page);
    assert.match(await projectItem(page).getByTestId('project-role').textContent(), /Editor$/);
    assert.equal(await projectItem(page).getByRole('button').count(), 0, 'no rename or delete');
    await screenshot(page, 'sharing-editor-projects');
  });

  test('a page whose role went stale says so in words when refused, and catches up', async () => {
    // Bob's page shows him as an editor; meanwhile the owner makes him a viewer.
    await showProject(bob.page, 'Editor');
    const roses = taskByTitle(bob.page, 'Water the roses');
    await roses.getByTestId('edit-task').waitFor();
    await openMembers(alice.page);
    await memberRow(alice.page, bob).getByTestId('change-role').click();
    await eventually(async () => assert.equal(await membersStatus(alice.page), `“${bob.name}” is now a viewer.`));

    await roses.getByTestId('edit-task').click();
    await bob.page.getByTestId('edit-form').getByLabel('Title').fill('Water the tulips');
    await bob.page.getByTestId('save-task').click();
    await eventually(async () => assert.match(await errorText(bob.page), /role in this project does not allow/));
    const text = await errorText(bob.page);
    assertFriendly(text);
    assert.doesNotMatch(text, /\(/, 'no server detail in brackets');
    // The page now shows what a viewer sees.
    await eventually(async () => assert.match(await roleLine(bob.page), /^Your role: Viewer\./));
    await eventually(async () => assert.equal(await bob.page.getByTestId('edit-task').count(), 0));
    assert.equal(await bob.page.locator('#new-task-form').isVisible(), false);
    assert.equal(await roses.getByTestId('task-title').textContent(), 'Water the roses');
    await screenshot(bob.page, 'sharing-forbidden');

    const tasks = await pageRpc(alice.page, 'list_tasks', { filters: { project_id: projectId } });
    assert.ok(tasks.data.some((t) => t.title === 'Water the roses'), 'the refused edit did not land');
    assert.ok(!tasks.data.some((t) => t.title === 'Water the tulips'));
  });

  test('the owner removes a member, after confirming', async () => {
    const { page } = alice;
    const api = new Api();
    const carol = { name: await api.signupAndLogin(randomUsername('carol')) };
    carol.id = (await api.rpc('get_me')).data.id;
    await openMembers(page);
    await addMember(page, carol.name, 'editor');
    await eventually(async () => assert.equal(await membersStatus(page), `Added “${carol.name}” as an editor.`));
    assert.equal(await memberRow(page, carol).getByTestId('member-name').textContent(), carol.name);

    await memberRow(page, carol).getByTestId('remove-member').click();
    assert.match(await memberRow(page, carol).getByRole('group').textContent(), /Remove “.+” from “Shared garden”\?/);
    await memberRow(page, carol).getByTestId('cancel-member').click();
    await eventually(async () => assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid),
      'remove-member'));
    assert.equal(await page.getByTestId('member-item').count(), 3, 'cancel keeps them');

    await memberRow(page, carol).getByTestId('remove-member').click();
    await memberRow(page, carol).getByTestId('confirm-member').click();
    await eventually(async () => assert.equal(await membersStatus(page), `Removed “${carol.name}”.`));
    assert.equal(await memberRow(page, carol).count(), 0);
    const members = await pageRpc(page, 'list_project_members', { project_id: projectId });
    assert.deepEqual(members.data.map((m) => m.username), [alice.name, bob.name]);
    const theirs = await api.rpcRaw('get_project', { id: projectId });
    assert.equal(theirs.body.error?.data?.kind, 'EntityNotFound', 'the removed member no longer sees the project');
  });

  test('ownership is handed over after confirming, and each side sees its new role', async () => {
    const { page } = alice;
    // A second tab of Alice's on the projects list, still showing her as the owner (cut off from
    // live updates, which would show the change of role before it tries to rename).
    const tab = await alice.context.newPage();
    await withoutLiveUpdates(tab);
    await tab.goto('/#/projects');
    await projectItem(tab).getByTestId('rename-project').waitFor();

    await memberRow(page, bob).getByTestId('make-owner').click();
    assert.match(await memberRow(page, bob).getByRole('group').textContent(), /You will become an editor/);
    await page.keyboard.press('Escape');
    await memberRow(page, bob).getByTestId('make-owner').waitFor();
    assert.match(await roleLine(page), /^Your role: Owner\./, 'Escape hands nothing over');

    await memberRow(page, bob).getByTestId('make-owner').click();
    await memberRow(page, bob).getByTestId('confirm-member').click();
    await eventually(async () => assert.match(await roleLine(page), /^Your role: Editor\./));
    await eventually(async () => assert.equal(await membersStatus(page),
      `“${bob.name}” is now the owner of this project. You are an editor.`));
    assert.match(await memberRow(page, bob).getByTestId('member-role').textContent(), /Owner$/);
    assert.equal(await page.locator('#add-member-form').isVisible(), false);
    assert.equal(await managing(page).count(), 0);
    assert.equal(await memberRow(page, alice).getByTestId('leave-project').isVisible(), true);
    assert.equal(await page.locator('#new-task-form').isVisible(), true, 'an editor still adds tasks');
    await screenshot(page, 'sharing-after-transfer');

    await showProject(bob.page, 'Owner');
    await openMembers(bob.page);
    assert.equal(await bob.page.locator('#add-member-form').isVisible(), true);
    assert.match(await memberRow(bob.page, alice).getByTestId('member-role').textContent(), /Editor$/);
    const project = await pageRpc(bob.page, 'get_project', { id: projectId });
    assert.equal(project.data.role, 'owner');
    const me = await pageRpc(bob.page, 'get_me');
    assert.equal(project.data.owner_id, me.data.id);
    await showProjects(bob.page);
    assert.match(await projectItem(bob.page).getByTestId('project-role').textContent(), /Owner$/);
    assert.equal(await projectItem(bob.page).getByTestId('rename-project').isVisible(), true);

    // The stale tab tries to rename: refused in words, and its list catches up.
    await projectItem(tab).getByTestId('rename-project').click();
    await tab.locator(`#rename-input-${projectId}`).fill('Taken over');
    await tab.locator(`#rename-input-${projectId}`).press('Enter');
    await eventually(async () => assert.match(await errorText(tab), /role in this project does not allow/));
    assertFriendly(await errorText(tab));
    await eventually(async () => assert.match(await projectItem(tab).getByTestId('project-role').textContent(),
      /Editor$/));
    assert.equal(await projectItem(tab).getByRole('button').count(), 0);
    assert.equal(await projectItem(tab).getByTestId('project-name').textContent(), PROJECT);
    await screenshot(tab, 'sharing-stale-tab');
    await tab.close();
  });

  test('a member leaves, after confirming, and the project disappears from their list', async () => {
    const { page } = alice;
    await openMembers(page);
    await memberRow(page, alice).getByTestId('leave-project').click();
    assert.match(await memberRow(page, alice).getByRole('group').textContent(), /Leave “Shared garden”\?/);
    await memberRow(page, alice).getByTestId('confirm-member').click();
    await eventually(async () => assert.match(page.url(), /#\/projects$/));
    await eventually(async () => assert.equal(await statusText(page), `You have left “${PROJECT}”.`));
    await page.locator('#project-list[data-state=ready]').waitFor({ state: 'attached' });
    assert.equal(await projectItem(page).count(), 0);
    await screenshot(page, 'sharing-left');

    await showProject(bob.page, 'Owner');
    await openMembers(bob.page);
    assert.equal(await bob.page.getByTestId('members-summary').textContent(), 'Members (only you)');
    assert.equal(await memberRow(bob.page, alice).count(), 0);

    await page.goto(`/#/projects/${projectId}`);
    await eventually(async () => assert.equal(await page.getByTestId('project-title').textContent(), 'Project not found'));
    assertFriendly(await errorText(page));
    assert.equal(await page.locator('#members').isVisible(), false);
  });

  test('nothing unsafe happened in either page', () => {
    assertClean(alice.problems);
    assertClean(bob.problems);
  });
});
