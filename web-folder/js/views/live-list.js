// What the list views share to follow live updates (live.js): when to list again after changes
// elsewhere, and how to show the new list without disturbing what the user is doing in it.

// Changes often come in bursts (a batch, a re-list after reconnecting): one refresh for them all.
const REFRESH_DELAY_MS = 50;

/**
 * A view's live refreshes. `soon()` asks for one (coalescing bursts); it runs `refresh` once no
 * load the user asked for is running (each is wrapped in `user`), so a refresh never cuts such a
 * load short (its focus, its message), and one runs after it, which may have read too early.
 * Refreshes never overlap: one asked for meanwhile runs once the current one is done.
 * `stop()` drops a pending refresh (the view is gone).
 * @param {() => Promise<void>} refresh list again, quietly
 */
export function liveRefresher(refresh) {
  /** @type {ReturnType<typeof setTimeout>|null} */
  let timer = null;
  let userLoads = 0;
  let refreshing = false;
  let wanted = false;
  let stopped = false;

  // One refresh at a time: one asked for while another runs (or a user's load) runs after it.
  function run() {
    timer = null;
    if (stopped) return;
    if (userLoads > 0 || refreshing) {
      wanted = true;
      return;
    }
    refreshing = true;
    refresh().finally(() => {
      refreshing = false;
      if (wanted && userLoads === 0) {
        wanted = false;
        run();
      }
    });
  }

  return {
    soon() {
      if (timer === null && !stopped) timer = setTimeout(run, REFRESH_DELAY_MS);
    },
    /**
     * @template T
     * @param {() => Promise<T>} load
     * @returns {Promise<T>}
     */
    async user(load) {
      userLoads += 1;
      try {
        return await load();
      } finally {
        userLoads -= 1;
        if (userLoads === 0 && wanted) {
          wanted = false;
          run();
        }
      }
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}

/**
 * Whether the user is busy with a row: a form or a confirmation open in it, or a write in flight.
 * @param {Element} li
 */
function inUse(li) {
  return li.matches('[aria-busy]') || li.querySelector('form, .confirm, [aria-busy]') !== null;
}

/**
 * Show `items` in `list`, in order, one element per id. `rows` remembers each id's element and
 * the `key` it was made from (what it shows, as text). `fresh` makes every element anew (a load
 * the user asked for). Otherwise (a live refresh) an element is kept when its key is the same, or
 * when the user is busy with it (a later write from it is refused as Stale if it changed
 * meanwhile); new ids get new elements, and gone ids lose theirs. Elements move only when their
 * order changes, so one that stays keeps its focus.
 * @template {{id: number}} T
 * @param {HTMLElement} list
 * @param {Map<number, {li: HTMLElement, key: string}>} rows updated in place
 * @param {T[]} items
 * @param {{make: (item: T) => HTMLElement, key: (item: T) => string, fresh: boolean}} how
 */
export function showRows(list, rows, items, { make, key, fresh }) {
  /** @type {Map<number, {li: HTMLElement, key: string}>} */
  const next = new Map();
  for (const item of items) {
    const k = key(item);
    const old = fresh ? undefined : rows.get(item.id);
    next.set(item.id, old && (old.key === k || inUse(old.li)) ? old : { li: make(item), key: k });
  }
  rows.clear();
  for (const [id, row] of next) rows.set(id, row);

  const wanted = [...next.values()].map((row) => row.li);
  /** @type {Set<Element>} */
  const keep = new Set(wanted);
  for (const child of [...list.children]) if (!keep.has(child)) child.remove();
  wanted.forEach((li, i) => {
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] ?? null);
  });
}
