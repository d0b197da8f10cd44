// Turns an RpcError into a sentence for people. Raw bodies, codes and server
// messages never reach the page; the request id does, for unexpected failures,
// so a report can be matched with the server's log.

const SENTENCES = {
  LoginFailed: 'That username and password do not match.',
  UsernameTaken: 'That username is already taken. Please choose another one.',
  InvalidInput: 'Please check what you entered.',
  InvalidParams: 'The server could not accept that request.',
  TooManyAttempts: 'Too many failed attempts. Please wait a while before trying again.',
  TooManyRequests: 'Too many requests right now. Please slow down and try again shortly.',
  EntityNotFound: 'That item no longer exists. It may have been deleted.',
  Conflict: 'That clashes with something that already exists.',
  ServiceUnavailable: 'The service is temporarily unavailable. Please try again in a moment.',
  Unauthorized: 'Your session has ended. Please log in again.',
  Forbidden: 'The server refused this request.',
  PayloadTooLarge: 'That is too much text to send at once.',
  NetworkError: 'The server could not be reached. Please check your connection and try again.',
};

// Kinds that point to a fault rather than to something the user can fix.
const UNEXPECTED = new Set(['Internal', 'ParseError', 'InvalidRequest', 'BatchTooLarge',
  'MethodNotFound', 'UnsupportedMediaType', 'BadResponse', 'Unknown']);

function waitText(seconds) {
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/**
 * A friendly sentence for `err`.
 * @param {unknown} err an RpcError (anything else is treated as unexpected)
 * @param {Record<string, string>} [overrides] kind → sentence, for a view that knows better
 */
export function describeError(err, overrides = {}) {
  const kind = err?.kind ?? 'Unknown';
  let text = overrides[kind] ?? SENTENCES[kind];
  if (!text) {
    text = 'Something went wrong. Please try again.';
  }
  if (kind === 'TooManyAttempts' && err.retryAfter) {
    text = `Too many failed attempts. Please try again in ${waitText(err.retryAfter)}.`;
  }
  if (err?.detail) text += ` (${err.detail})`;
  if ((UNEXPECTED.has(kind) || !SENTENCES[kind]) && err?.reqId) {
    text += ` Reference: ${err.reqId}.`;
  }
  return text;
}
