import { describe, expect, it } from 'vitest';
import { InterruptedError, isInterrupted, onInterrupt, runInterruptTasks, throwIfInterrupted } from '../../src/util/cleanup.js';

// the module's state is this file's alone (vitest isolates modules per file)
describe('interrupt cleanup', () => {
  it('runs the registered tasks once; after it, nothing new may start', async () => {
    const ran: string[] = [];
    onInterrupt(async () => ran.push('container'));
    const forget = onInterrupt(async () => ran.push('finished work'));
    forget();
    expect(() => throwIfInterrupted()).not.toThrow();
    await runInterruptTasks();
    expect(ran).toEqual(['container']);
    expect(isInterrupted()).toBe(true);

    // issue 10: Ctrl-C during the copy step went on to "writing" and left the zip's temporary
    // file: it registered its cleanup after the cleanup had run. Now the registration undoes
    // what it covers at once and stops the work.
    expect(() => onInterrupt(async () => ran.push('temporary file'))).toThrow(InterruptedError);
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['container', 'temporary file']);
    expect(() => throwIfInterrupted()).toThrow(InterruptedError);
  });
});
