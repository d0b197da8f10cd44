// What each project role may do, and how roles are named on the page. The server decides;
// these only choose which controls to show, so a refused action stays the exception.

const LABELS = { owner: 'Owner', editor: 'Editor', viewer: 'Viewer' };

const SUMMARIES = {
  owner: 'You can change everything in this project and choose who shares it.',
  editor: 'You can add, change and delete tasks. The owner manages the project and its members.',
  viewer: 'You can see the tasks but not change them. Ask the owner if you need to edit.',
};

/**
 * "Owner", "Editor", "Viewer" (an unknown role is shown as it is).
 * @param {string} role
 */
export function roleLabel(role) {
  return LABELS[role] ?? String(role);
}

/**
 * The role in a sentence, lower case: "the owner", "an editor", "a viewer".
 * @param {string} role
 */
export function aRole(role) {
  if (role === 'owner') return 'the owner';
  return `${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}`;
}

/**
 * One sentence on what `role` lets the caller do.
 * @param {string} role
 */
export function roleSummary(role) {
  return SUMMARIES[role] ?? '';
}

/**
 * Editors and the owner may create, change and delete tasks.
 * @param {string|null} role
 */
export function canEditTasks(role) {
  return role === 'owner' || role === 'editor';
}

/**
 * Only the owner may rename or delete the project and manage its members.
 * @param {string|null} role
 */
export function canManage(role) {
  return role === 'owner';
}
