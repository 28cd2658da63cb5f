import { describe, expect, it } from 'vitest';
import { checkpoint, InterruptedError, runInterruptTasks } from '../../src/util/cleanup.js';

describe('checkpoint', () => {
  // issue 10: a Ctrl-C during relocation (synchronous work) was handled only once the build had
  // gone on to print and start "writing"; a checkpoint lets the signal in and stops there
  it('sees a signal that arrived during synchronous work', async () => {
    await checkpoint(); // nothing pending: goes on
    process.once('SIGUSR2', () => void runInterruptTasks());
    process.kill(process.pid, 'SIGUSR2');
    const until = Date.now() + 200;
    while (Date.now() < until); // the signal is pending while JavaScript runs
    await expect(checkpoint()).rejects.toBeInstanceOf(InterruptedError);
  });
});
