// The frontend's source keeps to its rules: no HTML built from strings, no
// inline scripts, handlers or styles (the CSP would block them anyway).

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web-folder');

async function filesUnder(dir) {
  const out = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...await filesUnder(p));
    else out.push(p);
  }
  return out;
}

test('no script builds HTML from strings', async () => {
  const scripts = (await filesUnder(WEB)).filter((f) => f.endsWith('.js'));
  assert.ok(scripts.length > 0);
  for (const f of scripts) {
    const src = await fs.readFile(f, 'utf8');
    assert.doesNotMatch(src, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/,
      path.relative(WEB, f));
  }
});

test('the HTML has no inline scripts, handlers or styles', async () => {
  const pages = (await filesUnder(WEB)).filter((f) => f.endsWith('.html'));
  assert.ok(pages.length > 0);
  for (const f of pages) {
    const html = await fs.readFile(f, 'utf8');
    const name = path.relative(WEB, f);
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      assert.match(m[1], /\bsrc=/, `${name}: inline <script>`);
      assert.equal(m[2].trim(), '', `${name}: inline script body`);
    }
    assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=|javascript:/i, name);
  }
});
