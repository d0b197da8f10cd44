// What the tests of the document and the client share: the document (from OPENRPC_DOC, or
// what the server binary prints), validators of each method's params and result made from it
// (ajv, JSON Schema draft 7 as the document's schemas are), and a session-keeping fetch.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { paramsSchema } from '../generate.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function loadDocument() {
  if (process.env.OPENRPC_DOC) return JSON.parse(fs.readFileSync(process.env.OPENRPC_DOC, 'utf8'));
  const bin = process.env.SERVER_BIN ?? path.join(REPO_ROOT, 'target', 'debug', 'web-server');
  return JSON.parse(execFileSync(bin, ['openrpc'], { encoding: 'utf8' }));
}

/** Validators of params and results, by method name, for `document`. */
export function validators(document) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // Each schema is compiled beside the document's components, where its `$ref`s point.
  const compile = (schema) => ajv.compile({ components: document.components, allOf: [schema] });
  const methods = new Map(document.methods.map((method) => [method.name, method]));
  const cache = new Map();
  const validator = (kind, name) => {
    const key = `${kind} ${name}`;
    if (!cache.has(key)) {
      const method = methods.get(name);
      if (!method) throw new Error(`the document has no method ${name}`);
      cache.set(key, compile(kind === 'params' ? paramsSchema(method) : method.result.schema));
    }
    return cache.get(key);
  };
  /** The errors of `value` as `name`'s params or result, as text; `[]` when it conforms. */
  const check = (kind) => (name, value) => {
    const validate = validator(kind, name);
    return validate(value) ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  };
  return { methods, params: check('params'), result: check('result') };
}

/** The params of an example pairing as the object a request carries (they are by name). */
export function exampleParams(example) {
  return Object.fromEntries(example.params.map((p) => [p.name, p.value]));
}

/** A fetch that keeps the session cookie, as a browser would for its origin. */
export function cookieFetch() {
  let cookie = null;
  return async (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(input, { ...init, headers });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    return res;
  };
}
