// Compile-time checks of the generated types (`npm run check-types`): what a client may and may
// not write. Each `@ts-expect-error` must meet an error, or the check fails.

import { ApiClient } from '../src/index.js';

const client = new ApiClient();

export async function mayWrite(): Promise<void> {
  const task = (await client.call('get_task', { id: 1 })).data;
  const title: string = task.title;
  const description: string | null = task.description;
  await client.call('update_task', { id: task.id, data: { done: true, description: null }, if_mtime: task.mtime });
  await client.call('list_projects', { filters: [{ name: { $containsCi: 'x' } }, { role: 'owner' }] });
  void title;
  void description;
}

export async function mayNotWrite(): Promise<void> {
  // @ts-expect-error: no such method
  await client.call('get_tasks', { id: 1 });
  // @ts-expect-error: a task has no `owner_id`
  (await client.call('get_task', { id: 1 })).data.owner_id;
  // @ts-expect-error: `title` may not be cleared
  await client.call('update_task', { id: 1, data: { title: null } });
  // @ts-expect-error: no operator `$like` on text
  await client.call('list_tasks', { filters: { title: { $like: 'x' } } });
  // @ts-expect-error: `id` is a number
  await client.call('get_project', { id: '1' });
}
