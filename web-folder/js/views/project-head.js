// The head of a project's view: its name, the caller's role in it (in words) and its members
// panel. It reads the project (get_project) on opening and whenever the caller's role may have
// changed, and tells the view which role to show the tasks for. A rename made elsewhere shows
// live (`renamed`, `reread`).

import { h, replace } from '../dom.js';
import { roleLabel, roleSummary } from './roles.js';
import { membersPanel } from './members.js';

/** @typedef {import('../app.js').Ctx} Ctx */
/** @typedef {import('../rpc.js').RpcError} RpcError */
/** @typedef {import('../../../clients/ts/src/api.gen.js').Project} Project */

/**
 * @param {Ctx} ctx the view's context (rpc, session, navigate, isCurrent)
 * @param {object} deps
 * @param {number} deps.projectId
 * @param {(err: RpcError) => void} deps.fail show an RpcError in words, in the view's message area
 * @param {(text: string) => void} deps.failText show an error sentence there
 * @param {(project: Project|null) => void} deps.shown the project as just read (null: it cannot be
 *   shown: gone, or the caller is no longer a member); the view shows its tasks for that role
 * @param {() => Promise<void>} deps.reloadTasks show the tasks again (after a role change)
 */
export function projectHead(ctx, { projectId, fail, failText, shown, reloadTasks }) {
  const { rpc } = ctx;
  const title = h('h1', { id: 'project-title', 'data-testid': 'project-title', tabindex: '-1', text: 'Project' });
  const roleLine = h('p', { id: 'project-role', class: 'role-line', 'data-testid': 'project-role', hidden: true });
  const members = membersPanel({ rpc, projectId, meId: ctx.session.me?.id, refresh, left });
  members.node.hidden = true;

  /**
   * Read the project: its name and the caller's role, which decide the controls shown. Resolves
   * to the project, or null when it cannot be shown (gone, no longer a member, the view was left).
   * @returns {Promise<Project|null>}
   */
  async function read() {
    /** @type {Project} */
    let p;
    try {
      p = (await rpc.call('get_project', { id: projectId })).data;
    } catch (err) {
      if (!ctx.isCurrent()) return null;
      if (err.kind === 'EntityNotFound') notFound();
      else fail(err);
      return null;
    }
    if (!ctx.isCurrent()) return null;
    title.textContent = p.name;
    document.title = `${p.name} · Tasks`;
    replace(roleLine, 'Your role: ', h('strong', { text: roleLabel(p.role) }), '. ', roleSummary(p.role));
    roleLine.dataset.role = p.role;
    roleLine.hidden = false;
    members.node.hidden = false;
    shown(p);
    await members.show(p);
    return p;
  }

  function notFound() {
    title.textContent = 'Project not found';
    failText('This project does not exist, or you are not a member of it.');
    roleLine.hidden = true;
    members.node.hidden = true;
    shown(null);
  }

  /**
   * The project as changed elsewhere (a live update): show its new name. Its role, and what it
   * allows, is read again when a write is refused.
   * @param {Project} p
   */
  function renamed(p) {
    if (!ctx.isCurrent() || roleLine.hidden) return;
    title.textContent = p.name;
    document.title = `${p.name} · Tasks`;
  }

  // Changes may have been missed (live updates reconnected): read the name again, quietly, or
  // say that the project is gone.
  async function reread() {
    let p;
    try {
      p = (await rpc.call('get_project', { id: projectId })).data;
    } catch (err) {
      if (err.kind === 'EntityNotFound' && ctx.isCurrent() && !roleLine.hidden) notFound();
      return;
    }
    renamed(p);
  }

  // The caller's role changed, or may have (a members panel action): show the project as it is now.
  /** @param {string} [focusId] */
  async function refresh(focusId) {
    if (!(await read())) return;
    await reloadTasks();
    if (focusId) document.getElementById(focusId)?.focus();
  }

  // The caller has left the project: it is no longer theirs to see.
  /** @param {string} name the project's */
  function left(name) {
    ctx.session.flash = `You have left “${name}”.`;
    ctx.navigate('#/projects');
  }

  return { title, roleLine, panel: members.node, read, renamed, reread };
}
