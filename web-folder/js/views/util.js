// Small helpers shared by the list views.

/**
 * "1 task", "3 tasks".
 * @param {number} n
 * @param {string} word
 */
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Run `rerender` (which replaces DOM) and put keyboard focus back on the
 * element with the same id, so re-drawing a list does not throw the user to
 * the top of the page.
 * @param {() => void} rerender
 */
export function keepFocus(rerender) {
  const id = document.activeElement?.id;
  rerender();
  if (id && document.activeElement?.id !== id) document.getElementById(id)?.focus();
}
