// Accounts and sessions through the page: sign up, log in, who is signed in,
// change password, log off, and being sent back to the login view.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  PASSWORD, assertClean, assertFriendly, errorText, eventually, launchBrowser, openPage, randomUsername,
  screenshot, statusText, loginViaUi,
} from '../lib/harness.mjs';

const NEW_PASSWORD = 'a brand new secret';

describe('accounts and sessions', { timeout: 120_000 }, () => {
  let browser;
  let page;
  let context;
  let problems;
  const username = randomUsername('auth');
  /** The page's live sockets (/api/ws), in order. */
  const sockets = [];

  before(async () => {
    browser = await launchBrowser();
    ({ page, context, problems } = await openPage(browser));
    page.on('websocket', (ws) => sockets.push(ws));
  });

  after(async () => {
    await browser?.close();
  });

  test('a visitor without a session is shown the login view', async () => {
    await page.goto('/#/projects');
    await page.locator('#login-form').waitFor();
    assert.match(page.url(), /#\/login$/);
    assert.equal(await page.locator('#nav').isVisible(), false, 'no navigation before logging in');
    await screenshot(page, 'login');
  });

  test('signing up creates an account and offers the login form with the name filled in', async () => {
    await page.locator('#to-signup').click();
    await page.locator('#signup-form').waitFor();
    await page.locator('#signup-username').fill(username);
    await page.locator('#signup-password').fill(PASSWORD);
    await page.locator('#signup-password2').fill(PASSWORD);
    await screenshot(page, 'signup');
    await page.locator('#signup-password2').press('Enter');
    await page.locator('#login-form').waitFor();
    assert.equal(await page.locator('#login-username').inputValue(), username);
    assert.match(await page.getByTestId('info').textContent(), /account has been created/i);
  });

  test('signing up a taken username says so in words', async () => {
    await page.goto('/#/signup');
    await page.locator('#signup-username').fill(username.toUpperCase());
    await page.locator('#signup-password').fill(PASSWORD);
    await page.locator('#signup-password2').fill(PASSWORD);
    await page.locator('#signup-submit').click();
    const text = await eventually(async () => {
      const t = await errorText(page);
      assert.match(t, /already taken/i);
      return t;
    });
    assertFriendly(text);
  });

  test('the signup form states the username rule', async () => {
    await page.goto('/#/signup');
    const hint = await page.locator('#signup-username-hint').textContent();
    assert.match(hint, /3 to 64/);
    assert.match(hint, /one script/i);
    assert.match(hint, /no spaces/i);
    assert.match(hint, /not case-sensitive/i);
  });

  test('a username with an invisible character is refused in words', async () => {
    await page.goto('/#/signup');
    await page.locator('#signup-username').fill(`ab\u200bcd${Date.now().toString(36)}`);
    await page.locator('#signup-password').fill(PASSWORD);
    await page.locator('#signup-password2').fill(PASSWORD);
    await page.locator('#signup-submit').click();
    const text = await eventually(async () => {
      const t = await errorText(page);
      assert.match(t, /check what you entered/i);
      assert.match(t, /invisible characters/i);
      return t;
    });
    assertFriendly(text);
  });

  test('a wrong password is refused with a sentence, not raw JSON', async () => {
    await page.goto('/#/login');
    await page.locator('#login-username').fill(username);
    await page.locator('#login-password').fill('not the password');
    await page.locator('#login-submit').click();
    const text = await eventually(async () => {
      const t = await errorText(page);
      assert.match(t, /do not match/i);
      return t;
    });
    assertFriendly(text);
    assert.equal(await page.locator('#nav').isVisible(), false);
  });

  test('a throttled login says when to try again', async () => {
    // Ten failures for a name nobody has lock that name (the v1 throttle, no device cookie).
    const target = randomUsername('locked');
    for (let i = 0; i < 10; i += 1) {
      const status = await page.evaluate(async (name) => (await fetch('/api/login', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: name, pwd: 'wrong password' }),
      })).status, target);
      assert.equal(status, 401);
    }
    await page.goto('/#/login');
    await page.locator('#login-username').fill(target);
    await page.locator('#login-password').fill('wrong password');
    await page.locator('#login-submit').click();
    const text = await eventually(async () => {
      const t = await errorText(page);
      assert.match(t, /too many failed attempts\. please try again in \d+ minutes/i);
      return t;
    });
    assertFriendly(text);
  });

  test('logging in shows the projects and who is signed in', async () => {
    await loginViaUi(page, username, PASSWORD);
    assert.match(page.url(), /#\/projects$/);
    await page.locator('#new-project-form').waitFor();
  });

  test('changing the password needs the current one', async () => {
    await page.getByTestId('nav-password').click();
    await page.locator('#password-form').waitFor();
    await page.locator('#old-password').fill('not the password');
    await page.locator('#new-password').fill(NEW_PASSWORD);
    await page.locator('#new-password2').fill(NEW_PASSWORD);
    await page.locator('#change-password').click();
    assertFriendly(await eventually(errorText.bind(null, page)));
  });

  test('changing the password with the current one succeeds', async () => {
    await page.locator('#old-password').fill(PASSWORD);
    await page.locator('#new-password').fill(NEW_PASSWORD);
    await page.locator('#new-password2').fill(NEW_PASSWORD);
    await page.locator('#new-password2').press('Enter');
    await eventually(async () => assert.match(await statusText(page), /password has been changed/i));
    assert.equal(await page.locator('#view [data-testid=error]').isVisible(), false);
    await screenshot(page, 'password');
  });

  test('the password change leaves the page signed in, and live on the new session', async () => {
    // The projects view opened a socket on the old session, which the change ended.
    const old = sockets.at(-1);
    assert.ok(old, 'the projects view opened a live socket');
    await eventually(async () => assert.ok(old.isClosed(), 'the old session’s socket is closed'));
    const opened = sockets.length;
    await page.getByTestId('nav-projects').click();
    await page.locator('#new-project-form').waitFor();
    await eventually(async () => assert.equal(sockets.length, opened + 1, 'a socket on the new session'));
    assert.match(page.url(), /#\/projects$/);
    assert.equal(await page.locator('#nav').isVisible(), true, 'still signed in');
  });

  test('logging off returns to the login view and ends the session', async () => {
    await page.getByTestId('logoff').click();
    await page.locator('#login-form').waitFor();
    assert.match(await page.getByTestId('info').textContent(), /logged off/i);
    assert.equal(await page.locator('#nav').isVisible(), false);
    const status = await page.evaluate(async () => (await fetch('/api/rpc', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'get_me' }),
    })).status);
    assert.equal(status, 401, 'the old session no longer works');
    await page.goto('/#/projects');
    await page.locator('#login-form').waitFor();
  });

  test('the old password no longer logs in', async () => {
    await page.locator('#login-username').fill(username);
    await page.locator('#login-password').fill(PASSWORD);
    await page.locator('#login-submit').click();
    await eventually(async () => assert.match(await errorText(page), /do not match/i));
  });

  test('the new password logs in', async () => {
    await loginViaUi(page, username, NEW_PASSWORD);
  });

  test('a session that has gone away sends the user back to the login view, then back to where they were', async () => {
    await page.getByTestId('nav-password').click();
    await page.locator('#password-form').waitFor();
    await context.clearCookies();
    await page.locator('#old-password').fill(NEW_PASSWORD);
    await page.locator('#new-password').fill(PASSWORD);
    await page.locator('#new-password2').fill(PASSWORD);
    await page.locator('#change-password').click();
    await page.locator('#login-form').waitFor();
    assert.match(await page.getByTestId('info').textContent(), /session has ended/i);
    await loginViaUi(page, username, NEW_PASSWORD);
    await page.locator('#password-form').waitFor();
    assert.match(page.url(), /#\/password$/);
  });

  test('nothing unsafe happened in the page', () => {
    assertClean(problems);
  });
});
