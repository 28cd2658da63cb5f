import { Readable } from 'node:stream';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContentStore } from '../../src/cache/content-store.js';
import { parseArch } from '../../src/registry/arch.js';
import { loadRuntime, loadTarget } from '../../src/registry/load.js';
import type { Plan } from '../../src/resolve/plan.js';
import type { Runner } from '../../src/runner/types.js';
import { runMaintainerScripts, type RunScriptsArgs } from '../../src/stage/scripts.js';
import type { StagedRoot } from '../../src/stage/staging.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The order of the scripts step against the staging it overlaps (stage/scripts.ts): when the
 * scratch root is prepared, whose error is said, and that the scratch root always goes. The
 * runner records what it is asked to do; the real installation runs in the e2e files
 * (generated-files, interrupt, faults).
 */

const plan: Plan = {
  packages: [{ name: 'libfoo1', version: '1.0-1', arch: 'amd64', downloadSize: 10, installedSize: 2048, requiredBy: ['libfoo1'], requested: true, provides: [], depends: [] }],
  fromRuntime: [],
  skew: [],
};

function recorder(log: string[], fail?: { getArchive: Error }): Runner {
  return {
    async exec(cmd) {
      log.push(`exec ${cmd.at(-1)}`);
      return { exitCode: 0, stdout: '', stderr: '' };
    },
    async putArchive(_path, tarball) {
      if (tarball instanceof Readable) for await (const _ of tarball);
      log.push('put');
    },
    async getArchive() {
      if (fail) throw fail.getArchive;
      throw new Error('getArchive: not in this test');
    },
  };
}

/** A staging that settles after `ms`, saying so in the log. */
function staging<T>(log: string[], ms: number, outcome: { value: T } | { error: Error }): Promise<T> {
  return new Promise((resolve, reject) =>
    setTimeout(() => {
      log.push('staging settled');
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.value);
    }, ms),
  );
}

function args(log: string[], over: Partial<RunScriptsArgs> & { isTheBuildMachine?: boolean; runner?: Runner }): RunScriptsArgs {
  const root = tempDir();
  const { isTheBuildMachine, runner, ...rest } = over;
  return {
    plan,
    staging: Promise.resolve({ tree: new Map(), alternatives: [], archives: new Map(), fetched: [] }),
    archives: new Promise(() => undefined),
    target: loadTarget('debian12'),
    runtime: loadRuntime('debian12'),
    arch: parseArch('x86_64'),
    image: 'yumda/build-debian12:test',
    selfContained: false,
    scratch: async () => ({ runner: runner ?? recorder(log), close: async () => void log.push('scratch closed'), ...(isTheBuildMachine ? { isTheBuildMachine } : {}) }),
    store: new ContentStore(path.join(root, 'content')),
    cacheDir: path.join(root, 'scripts'),
    events: { step: () => undefined, detail: () => undefined },
    warn: (l) => log.push(`warn ${l}`),
    ...rest,
  };
}

const staged = (archives: StagedRoot['archives']): StagedRoot => ({ tree: new Map(), alternatives: [], archives, fetched: [] });

describe('the scripts step beside the staging it overlaps', () => {
  it.each([
    ['a scratch container: prepared while the staging runs', false, ['exec prepare', 'staging settled', 'scratch closed']],
    [
      'the build machine itself (--local --disposable): prepared only after the staging, whose tools the purge would take',
      true,
      ['staging settled', 'exec prepare', 'scratch closed'],
    ],
  ])('%s', async (_, isTheBuildMachine, order) => {
    const log: string[] = [];
    // the package file never arrives: the step is skipped, once the staging is done
    const report = await runMaintainerScripts(args(log, { isTheBuildMachine, staging: staging(log, 50, { value: staged(new Map()) }) }));
    expect(report.skipped).toBe('the package files of libfoo1 are not at hand');
    expect(log.filter((l) => !l.startsWith('put'))).toEqual(order);
  });

  it('a staging that fails: its error is the one thrown, after it settled, and the scratch root goes', async () => {
    const log: string[] = [];
    const failure = new Error('no space left on device writing the cache');
    await expect(runMaintainerScripts(args(log, { staging: staging(log, 30, { error: failure }) }))).rejects.toBe(failure);
    expect(log.filter((l) => !l.startsWith('put'))).toEqual(['exec prepare', 'staging settled', 'scratch closed']);
  });

  it("when the installation fails too (its copy out on the same full disk), the staging's error is still the one thrown", async () => {
    const log: string[] = [];
    const a = args(log, {});
    const file = a.store.save(Buffer.from('!<arch>\n'));
    const failure = new Error('no space left on device writing the cache');
    const runner = recorder(log, { getArchive: Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }) });
    const run = runMaintainerScripts({
      ...args(log, { runner }),
      store: a.store,
      archives: Promise.resolve(new Map([['libfoo1', { name: 'libfoo1.deb', content: file, size: 8 }]])),
      // the trees' copy out fails after the installation's own
      staging: staging(log, 300, { error: failure }),
    });
    await expect(run).rejects.toBe(failure);
    expect(log.filter((l) => !l.startsWith('put'))).toEqual(['exec prepare', 'exec install', 'staging settled', 'scratch closed']);
  });

  /**
   * A staging that, like stagePlan, copies its trees out only once it is told the files are taken,
   * then settles: a step that waited for it without saying so would never end.
   */
  function holdingStaging(log: string[], archives: StagedRoot['archives']): { staging: Promise<StagedRoot>; archivesTaken: () => void } {
    let taken: () => void = () => undefined;
    const told = new Promise<void>((resolve) => {
      taken = resolve;
    });
    return {
      staging: told.then(() => staging(log, 10, { value: staged(archives) })),
      archivesTaken: () => {
        if (!log.includes('taken')) log.push('taken');
        taken();
      },
    };
  }

  it('a scratch root that is ready: the staging copies its trees out once the package files are up, and the installation starts then', async () => {
    const log: string[] = [];
    const a = args(log, {});
    const files = new Map([['libfoo1', { name: 'libfoo1.deb', content: a.store.save(Buffer.from('!<arch>\n')), size: 8 }]]);
    const runner = recorder(log, { getArchive: new Error('no meta in this test') });
    const later = new Promise<typeof files>((resolve) => setTimeout(() => resolve(files), 50));
    await expect(
      runMaintainerScripts({ ...a, ...holdingStaging(log, files), scratch: async () => ({ runner, close: async () => void log.push('scratch closed') }), archives: later }),
    ).rejects.toThrow('no meta');
    // the root's scripts, the plan, the package files: then the staging goes on
    expect(log).toEqual(['put', 'exec prepare', 'put', 'put', 'taken', 'exec install', 'staging settled', 'scratch closed']);
  });

  it('a scratch root not ready when the files arrive: the staging goes on at once', async () => {
    const log: string[] = [];
    const a = args(log, {});
    const files = new Map([['libfoo1', { name: 'libfoo1.deb', content: a.store.save(Buffer.from('!<arch>\n')), size: 8 }]]);
    const slow = async () => {
      await new Promise((r) => setTimeout(r, 100));
      return { cannot: 'no scratch root in this test' };
    };
    const report = await runMaintainerScripts({ ...a, ...holdingStaging(log, files), scratch: slow, archives: Promise.resolve(files) });
    expect(report.skipped).toBe('no scratch root in this test');
    expect(log).toEqual(['taken', 'staging settled']);
  });

  it('the build machine itself (--local --disposable), prepared after the staging: the staging is not held for it', async () => {
    const log: string[] = [];
    const a = args(log, { isTheBuildMachine: true });
    const files = new Map([['libfoo1', { name: 'libfoo1.deb', content: a.store.save(Buffer.from('!<arch>\n')), size: 8 }]]);
    const runner = recorder(log, { getArchive: new Error('no meta in this test') });
    const run = runMaintainerScripts({
      ...a,
      ...holdingStaging(log, files),
      scratch: async () => ({ runner, close: async () => void log.push('scratch closed'), isTheBuildMachine: true }),
      archives: Promise.resolve(files),
    });
    await expect(run).rejects.toThrow('no meta');
    expect(log).toEqual(['taken', 'staging settled', 'put', 'exec prepare', 'put', 'put', 'exec install', 'scratch closed']);
  });

  it('an upload that fails: the staging is told before the step waits for it, and the step settles', async () => {
    const log: string[] = [];
    const a = args(log, {});
    const files = new Map([['libfoo1', { name: 'libfoo1.deb', content: a.store.save(Buffer.from('!<arch>\n')), size: 8 }]]);
    const base = recorder(log);
    let puts = 0;
    // the third upload, the package files, fails
    const broken: Runner = { ...base, putArchive: async (p, t) => (++puts === 3 ? Promise.reject(new Error('the engine went away')) : base.putArchive(p, t)) };
    const later = new Promise<typeof files>((resolve) => setTimeout(() => resolve(files), 50));
    const run = runMaintainerScripts({
      ...a,
      ...holdingStaging(log, files),
      scratch: async () => ({ runner: broken, close: async () => void log.push('scratch closed') }),
      archives: later,
    });
    await expect(run).rejects.toThrow('the engine went away');
    expect(log).toEqual(['put', 'exec prepare', 'put', 'taken', 'staging settled', 'scratch closed']);
  });
});
