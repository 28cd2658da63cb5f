/**
 * Work to undo if the process is interrupted (Ctrl-C, SIGTERM): containers to remove, temporary
 * outputs to delete. Each task unregisters itself when its work ends normally.
 */
const tasks = new Set<() => Promise<unknown>>();

export function onInterrupt(task: () => Promise<unknown>): () => void {
  tasks.add(task);
  return () => tasks.delete(task);
}

let interrupted = false;

/** Whether cleanup has begun: work still under way must not start anything new (a container). */
export function isInterrupted(): boolean {
  return interrupted;
}

export async function runInterruptTasks(): Promise<void> {
  interrupted = true;
  const all = [...tasks];
  tasks.clear();
  await Promise.allSettled(all.map((t) => t()));
}
