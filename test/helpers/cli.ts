import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './tmp.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * The CLI under test: the bundle package.json's bin runs (scripts/bundle.mjs), so the tests run what
 * ships. YUMDA_TEST_CLI runs them against another build (an older commit's, to see them fail there).
 */
export const cliPath = process.env.YUMDA_TEST_CLI ?? path.join(repoRoot, 'dist/bundle/yumda.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Each test file gets a cache of its own, so one file's builds do not warm another's. */
export const fileCache = tempDir('yumda-test-cache-');

/**
 * Runs the built CLI as a user would. Build containers get host networking unless the caller's
 * environment says otherwise: the test machines' engine runs without a bridge network.
 */
export function runYumda(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, YUMDA_DOCKER_NETWORK: process.env.YUMDA_DOCKER_NETWORK ?? 'host', XDG_CACHE_HOME: fileCache, ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return run(process.execPath, [cliPath, ...args], { cwd: opts.cwd ?? repoRoot, env: env as NodeJS.ProcessEnv });
}

/** Runs a command, resolving with its output whatever the exit code. */
export function run(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, ...(opts.env ? { env: opts.env } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
