// The change-password form's sentences for the two mistakes the server names by field: a wrong
// current password (`old_pwd`) and a new password that breaks the rules (`new_pwd`).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeError } from '../../web-folder/js/errors.js';
import {
  PASSWORD, assertClean, errorText, eventually, freshUserLoggedIn, launchBrowser, openPage,
} from '../lib/harness.mjs';

describe('change-password errors', { timeout: 120_000 }, () => {
  let browser;
  let page;
  let problems;

  before(async () => {
    browser = await launchBrowser();
    ({ page, problems } = await openPage(browser));
    await freshUserLoggedIn(page);
    await page.getByTestId('nav-password').click();
    await page.locator('#password-form').waitFor();
  });

  after(async () => {
    await browser?.close();
  });

  test('a wrong current password is said to be not correct', async () => {
    await page.locator('#old-password').fill('not the password');
    await page.locator('#new-password').fill('a brand new secret');
    await page.locator('#new-password2').fill('a brand new secret');
    await page.locator('#change-password').click();
    await eventually(async () => assert.equal(await errorText(page), 'Your current password is not correct.'));
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'old-password');
  });

  test('a too-short new password is said to be too short', async () => {
    // Set by script, as a password manager fills a form: the browser's own `minlength` check
    // applies only to what a person typed, so the server is the one that refuses it.
    await page.locator('#old-password').fill(PASSWORD);
    await page.evaluate(() => {
      for (const id of ['new-password', 'new-password2']) document.getElementById(id).value = 'short';
    });
    await page.locator('#change-password').click();
    await eventually(async () => {
      assert.equal(await errorText(page), 'The new password must be 8 to 1024 bytes long.');
    });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'new-password');
    assertClean(problems);
  });
});

describe('sentences by field', () => {
  const overrides = { fields: { old_pwd: 'Old.' }, InvalidParams: 'By kind.' };

  test('an invalid input is described by the field the server named, without the detail', () => {
    const err = { kind: 'InvalidParams', field: 'old_pwd', detail: 'old_pwd: does not match the current password' };
    assert.equal(describeError(err, overrides), 'Old.');
  });

  test('another field, or none, falls back to the kind', () => {
    assert.equal(describeError({ kind: 'InvalidParams', field: 'new_pwd', detail: 'd' }, overrides), 'By kind. (d)');
    assert.equal(describeError({ kind: 'InvalidParams', field: 'constructor' }, overrides), 'By kind.');
    assert.equal(describeError({ kind: 'Conflict', field: 'old_pwd' }, overrides), 'That clashes with something that already exists.');
  });
});
