import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cliPath, fileCache, type CliResult } from './cli.js';
import { tempDir } from './tmp.js';

/**
 * Runs a command the way hostile-input tests must: in a process group of its own, killed (the
 * whole group) when it passes a time bound or a memory bound, so a hang or a runaway allocation
 * fails the test in seconds instead of stalling CI or taking the machine's memory with it. Reports
 * the child's peak resident set size as the kernel counts it (GNU time's %M), and how long it ran.
 */
export interface BoundedResult extends CliResult {
  ms: number;
  peakRssMiB: number;
  /** Set when the bound, not the command, ended it. */
  killed?: 'time' | 'memory';
}

export interface Bounds {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Kill after this long (default 60 s). */
  timeoutMs?: number;
  /** Kill once the command's resident set passes this (default 1024 MiB). */
  maxRssMiB?: number;
  /** Send this signal after `afterMs` (an interrupt in the middle of the work). */
  signal?: { name: NodeJS.Signals; afterMs: number };
}

/** The children of `pid`: the command, under GNU time. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Resident set of `pid`'s children, in MiB. */
function childrenRssMiB(pid: number): number {
  try {
    let max = 0;
    for (const c of childrenOf(pid)) {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${c}/status`, 'utf8'));
      if (m) max = Math.max(max, Number(m[1]) / 1024);
    }
    return max;
  } catch {
    return 0;
  }
}

export function runBounded(cmd: string, args: string[], b: Bounds = {}): Promise<BoundedResult> {
  const timeoutMs = b.timeoutMs ?? 60_000;
  const maxRssMiB = b.maxRssMiB ?? 1024;
  const rssFile = path.join(tempDir('yumda-rss-'), 'rss');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...args], { cwd: b.cwd, env: b.env ?? process.env, detached: true });
    let stdout = '';
    let stderr = '';
    let killed: BoundedResult['killed'];
    const killGroup = (why: 'time' | 'memory') => {
      killed ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => killGroup('time'), timeoutMs);
    let polledMiB = 0;
    const watch = setInterval(() => {
      const rss = childrenRssMiB(child.pid!);
      polledMiB = Math.max(polledMiB, rss);
      if (rss > maxRssMiB) killGroup('memory');
    }, 50);
    // to the command, not to GNU time, which would die of it before the command had answered
    const signal = b.signal
      ? setTimeout(() => {
          for (const c of childrenOf(child.pid!)) process.kill(c, b.signal!.name);
        }, b.signal.afterMs)
      : undefined;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      clearInterval(watch);
      clearTimeout(signal);
      // GNU time's reading, exact; when the bound killed time itself, the highest one polled
      let timed = 0;
      try {
        timed = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 || 0;
      } catch {
        // not written
      }
      const peakRssMiB = Math.round(Math.max(timed, polledMiB));
      resolve({ code: code ?? (sig ? 128 : -1), stdout, stderr, ms: Date.now() - started, peakRssMiB, ...(killed ? { killed } : {}) });
    });
    if (b.input !== undefined) child.stdin.end(b.input);
    else child.stdin.end();
  });
}

/** The built CLI under `runBounded`, with the test's own cache unless `env` says otherwise. */
export function runYumdaBounded(args: string[], b: Bounds & { env?: Record<string, string | undefined> } = {}): Promise<BoundedResult> {
  const env: Record<string, string | undefined> = { ...process.env, YUMDA_DOCKER_NETWORK: process.env.YUMDA_DOCKER_NETWORK ?? 'host', XDG_CACHE_HOME: fileCache, ...b.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return runBounded(process.execPath, [cliPath, ...args], { ...b, env: env as NodeJS.ProcessEnv });
}

/** What a test says about a bounded run that failed: how it ended and what it printed. */
export function describeRun(r: BoundedResult): string {
  return `exit ${r.code}${r.killed ? ` (killed by the ${r.killed} bound)` : ''} after ${r.ms} ms, peak ${r.peakRssMiB} MiB\n${r.stderr.slice(-2000)}`;
}
