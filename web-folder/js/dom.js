// DOM building without HTML strings: every piece of data enters the page as a
// text node or a property, so nothing the server returns can become markup.

/**
 * Create an element.
 * `attrs` keys: `class`, `text` (textContent), `on` ({event: handler}),
 * `dataset` ({key: value}), boolean or string attributes, and a few
 * properties (`value`, `checked`, `disabled`, `hidden`) set directly.
 * Children are nodes, strings (as text), or null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'on') for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'hidden') el[key] = value;
    else if (key === 'style' || key.startsWith('on')) throw new Error(`h(): ${key} is not allowed`);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

let uid = 0;
/** A fresh id for pairing a <label> with its control. */
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled input (or textarea/select via `tag`) wrapped in a field block. */
export function field({ label, id = nextId('f'), tag = 'input', hint = null, ...attrs }, ...children) {
  const hintId = hint ? `${id}-hint` : null;
  const control = h(tag, { id, 'aria-describedby': hintId, ...attrs }, ...children);
  const wrap = h('div', { class: 'field' },
    h('label', { for: id, text: label }),
    control,
    hint && h('p', { class: 'hint', id: hintId, text: hint }));
  return { wrap, control };
}

/** A message area; `show(text)` / `clear()`. Errors use role=alert so screen readers announce them. */
export function messageBox(kind, testid) {
  const el = h('p', {
    class: `msg msg-${kind}`,
    role: kind === 'error' ? 'alert' : 'status',
    'data-testid': testid,
    hidden: true,
  });
  return {
    el,
    show(text) {
      el.textContent = text;
      el.hidden = false;
    },
    clear() {
      el.textContent = '';
      el.hidden = true;
    },
  };
}

/**
 * Run `fn` while `form`'s controls are disabled, so a double Enter cannot send
 * twice; re-enables them afterwards whatever happens.
 * @template T
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function busy(form, fn) {
  const controls = [...form.querySelectorAll('button, input, textarea, select')];
  const was = controls.map((c) => c.disabled);
  controls.forEach((c) => { c.disabled = true; });
  form.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    controls.forEach((c, i) => { c.disabled = was[i]; });
    form.removeAttribute('aria-busy');
  }
}
