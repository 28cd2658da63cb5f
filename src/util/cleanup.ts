/**
 * Work to undo if the process is interrupted (Ctrl-C, SIGTERM): containers to remove, temporary
 * outputs to delete. Each task unregisters itself when its work ends normally.
 */
const tasks = new Set<() => Promise<unknown>>();

export function onInterrupt(task: () => Promise<unknown>): () => void {
  tasks.add(task);
  return () => tasks.delete(task);
}

export async function runInterruptTasks(): Promise<void> {
  const all = [...tasks];
  tasks.clear();
  await Promise.allSettled(all.map((t) => t()));
}
