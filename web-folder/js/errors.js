// Turns an RpcError into a sentence for people. Raw bodies, codes and server
// messages never reach the page; the request id does, for unexpected failures,
// so a report can be matched with the server's log.

/** @typedef {import('./rpc.js').RpcError} RpcError */

const SENTENCES = {
  LoginFailed: 'That username and password do not match.',
  UsernameTaken: 'That username is already taken. Please choose another one.',
  InvalidInput: 'Please check what you entered.',
  InvalidParams: 'The server could not accept that request.',
  TooManyAttempts: 'Too many failed attempts. Please wait a while before trying again.',
  TooManyRequests: 'Too many requests right now. Please slow down and try again shortly.',
  QueryTimeout: 'That search took too long. Please narrow it down (fewer or more specific filters) and try again.',
  EntityNotFound: 'That item no longer exists. It may have been deleted.',
  Conflict: 'That clashes with something that already exists.',
  Stale: 'This was changed elsewhere (in another tab or on another device) since it was shown here. '
    + 'The latest version is shown now; please check it and try again.',
  ServiceUnavailable: 'The service is temporarily unavailable. Please try again in a moment.',
  Unauthorized: 'Your session has ended. Please log in again.',
  Forbidden: 'Your role in this project does not allow that. The owner may have changed it since the page '
    + 'was shown; the page now shows what your role allows.',
  Refused: 'The server refused this request.',
  PayloadTooLarge: 'That is too much text to send at once.',
  NetworkError: 'The server could not be reached. Please check your connection and try again.',
};

// Kinds that point to a fault rather than to something the user can fix.
const UNEXPECTED = new Set(['Internal', 'ParseError', 'InvalidRequest', 'BatchTooLarge',
  'MethodNotFound', 'UnsupportedMediaType', 'BadResponse', 'Unknown']);

function waitText(ms) {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds === 1) return '1 second';
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

// Throttled answers say when to retry; the sentence does too.
const THROTTLED = {
  TooManyAttempts: (wait) => `Too many failed attempts. Please try again in ${wait}.`,
  TooManyRequests: (wait) => `Too many requests at once. Please try again in ${wait}.`,
};

// Kinds whose server detail is for developers; the sentence says it for people.
const DETAIL_HIDDEN = new Set(['QueryTimeout', 'Stale', 'Forbidden']);

/**
 * Sentences a view knows better: kind → sentence, and `fields`: field → sentence.
 * @typedef {{[kind: string]: string | Record<string, string> | undefined,
 *   fields?: Record<string, string>}} Overrides
 */

/**
 * A friendly sentence for `err`.
 * @param {Partial<RpcError>} err an RpcError (anything else is treated as unexpected)
 * @param {Overrides} [overrides] kind → sentence, for a view that knows better;
 *   and `fields`: field → sentence, for an invalid input whose one field at fault the server
 *   named (`error.data.field`: `old_pwd`, `data.title`). Such a sentence says it all for people,
 *   so the server's detail is not added to it.
 * @returns {string}
 */
export function describeError(err, overrides = {}) {
  const kind = err?.kind ?? 'Unknown';
  const fields = overrides.fields ?? {};
  const byField = err?.field && Object.hasOwn(fields, err.field) ? fields[err.field] : null;
  if (byField && (kind === 'InvalidParams' || kind === 'InvalidInput')) return byField;
  let text = overrides[kind] ?? SENTENCES[kind];
  if (!text) {
    text = 'Something went wrong. Please try again.';
  }
  if (THROTTLED[kind] && err.retryAfterMs) {
    text = THROTTLED[kind](waitText(err.retryAfterMs));
  }
  if (err?.detail && !DETAIL_HIDDEN.has(kind)) text += ` (${err.detail})`;
  if ((UNEXPECTED.has(kind) || !SENTENCES[kind]) && err?.reqId) {
    text += ` Reference: ${err.reqId}.`;
  }
  return text;
}
