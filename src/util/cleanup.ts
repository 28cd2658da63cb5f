/**
 * Work to undo if the process is interrupted (Ctrl-C, SIGTERM): containers to remove, temporary
 * outputs to delete. Each task unregisters itself when its work ends normally.
 */
const tasks = new Set<() => Promise<unknown>>();

/** Thrown by work that tries to start something after an interrupt: it must stop there. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
    this.name = 'InterruptedError';
  }
}

/**
 * Registers `task` to run on an interrupt. Once cleanup has begun, nothing new may start: the
 * thing the task would undo (a container just created, a temporary file) is undone at once and
 * the caller gets an InterruptedError, so the work in flight stops instead of going on to write.
 */
export function onInterrupt(task: () => Promise<unknown>): () => void {
  if (interrupted) {
    void task().catch(() => undefined);
    throw new InterruptedError();
  }
  tasks.add(task);
  return () => tasks.delete(task);
}

let interrupted = false;

/** Whether cleanup has begun: work still under way must not start anything new (a container). */
export function isInterrupted(): boolean {
  return interrupted;
}

/** Throws InterruptedError once cleanup has begun: for the points where work would commit a result. */
export function throwIfInterrupted(): void {
  if (interrupted) throw new InterruptedError();
}

/**
 * A point where work may stop: lets a signal that arrived during synchronous work (relocation)
 * be handled, then throws InterruptedError if it was. Node handles a signal in the event loop's
 * poll phase; the first setImmediate may run before this iteration polls again, the second runs
 * after it has.
 */
export async function checkpoint(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  throwIfInterrupted();
}

export async function runInterruptTasks(): Promise<void> {
  interrupted = true;
  const all = [...tasks];
  tasks.clear();
  await Promise.allSettled(all.map((t) => t()));
}
