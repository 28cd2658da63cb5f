import type { Docker } from '../docker/client.js';
import type { PackedManifest } from '../format/layer-manifest.js';
import { ephemeralStorageMb } from '../format/packed.js';
import type { LayerManifest } from '../format/layer-manifest.js';
import { applicableRecipes } from '../recipes/load.js';
import type { Recipe } from '../recipes/types.js';
import type { Runtime } from '../registry/types.js';
import type { FileTree } from '../tree/types.js';
import { specialModes, specialModesLine } from '../layer/modes.js';
import { printable } from '../util/printable.js';
import { checkClosure, type ClosureReport } from './closure.js';
import { groupVersionProblems, versionGroupLine } from './versions.js';
import { withLambdaSandbox, type SandboxRun } from './sandbox.js';
import { plural } from '../util/plural.js';
import { EXEC_WRAPPER_PATH } from '../format/lambda.js';
import { shellTemplate } from '../util/template.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  /** `closure`, `smoke <recipe>`, `run`. */
  check: string;
  status: CheckStatus;
  /** The command run, for smoke and run checks. */
  command?: string;
  /** One line: what was found. */
  message: string;
  exitCode?: number;
  output?: string;
  closure?: ClosureReport;
}

export interface SmokeTest {
  recipe: string;
  run: string;
  expect: string;
}

/**
 * The smoke tests of the recipes a layer was built with, for the package versions it holds
 * (variants included). Names the layer lists that no known recipe has are returned as `unknown`.
 */
export function smokeTestsFor(manifest: LayerManifest, recipes: Recipe[], family: Runtime['family']): { tests: SmokeTest[]; unknown: string[] } {
  const named = new Set(manifest.recipes ?? []);
  const applied = applicableRecipes(
    recipes.filter((r) => named.has(r.name)),
    family,
    manifest.packages,
  );
  const found = new Set(applied.map((r) => r.name));
  return {
    tests: applied.flatMap((r) => r.rules.smoke.map((s) => ({ recipe: r.name, run: s.run, expect: s.expect }))),
    unknown: [...named].filter((n) => !found.has(n)).sort(),
  };
}

export interface VerifyInput {
  layer: FileTree;
  runtime: Runtime;
  smoke: SmokeTest[];
  /** Commands from `--run`: they pass when they exit 0. */
  run: string[];
  timeoutMs: number;
  /** Checks that could not even be set up (e.g. recipes the layer names but yumda lacks). */
  skipped?: CheckResult[];
  /** A packed layer: its first call unpacks, timed, in a /tmp sized as advised for it. */
  packed?: PackedManifest;
  /** The layer carries its own C library (`--from`): its copy satisfies version needs, and shipping it is no fault. */
  selfContained?: boolean;
}

const firstCallTemplate = shellTemplate(new URL('./first-call.sh', import.meta.url));

/**
 * The first and second call of a packed layer in one execution environment, timed: the exec
 * wrapper unpacks (as a launcher does) and the second finds the tree ready.
 */
export function packedFirstCall(): string {
  return firstCallTemplate({ EXEC_WRAPPER: EXEC_WRAPPER_PATH });
}

export function packedFirstCallResult(r: SandboxRun, packed: PackedManifest, storageMb: number): CheckResult {
  const base = { check: 'unpack', command: 'first and second call' };
  const m = /first (\d+) second (\d+)/.exec(r.output);
  if (r.timedOut) return { ...base, status: 'fail', message: 'timed out' };
  if (r.exitCode !== 0 || !m) return { ...base, status: 'fail', message: `exit ${r.exitCode}: ${outputGist(r.output) || '(no output)'}` };
  return {
    ...base,
    status: 'pass',
    message: `the first call unpacked ${packed.tmpMb} MB into ${packed.unpackDir} in ${(Number(m[1]) / 1000).toFixed(1)} s, the second took ${m[2]} ms (Lambda-like, /tmp ${storageMb} MB, this machine)`,
  };
}

export interface VerifyEvents {
  step(title: string): void;
  detail(line: string): void;
  /** Each check's result, as soon as it is known. */
  result(r: CheckResult): void;
}

/**
 * Output for a one-line message, newlines shown as ⏎, cut to `max` characters: its start for a
 * pass (the version line), its end for a failure (where the error is).
 */
export function outputGist(output: string, max = 240, from: 'start' | 'end' = 'end'): string {
  const flat = output
    .trim()
    .split('\n')
    .filter((l) => l.trim())
    .join(' ⏎ ');
  if (flat.length <= max) return flat;
  return from === 'start' ? `${flat.slice(0, max)}…` : `…${flat.slice(flat.length - max)}`;
}

/** One line for the closure check: each missing soname with the first file that needs it. */
export function closureResult(report: ClosureReport, runtime: Runtime): CheckResult {
  const bySoname = new Map<string, string[]>();
  for (const m of report.missing) bySoname.set(m.soname, [...(bySoname.get(m.soname) ?? []), m.file]);
  const problems = [
    // a C library too old for the programs explains the rest: said first
    ...groupVersionProblems(report.versions).map(versionGroupLine),
    ...[...bySoname].map(
      ([soname, files]) =>
        `${files[0]}${files.length > 1 ? ` and ${files.length - 1} more file${files.length > 2 ? 's' : ''} need` : ' needs'} ${soname}, which is not in the layer or the ${runtime.id} runtime`,
    ),
    ...report.cLibrary.map((f) => `${f} replaces the ${runtime.id} runtime's C library, which only a self-contained layer (--from) can do`),
    ...report.unreadable.map((u) => `${u.file} is ${u.why}`),
  ];
  if (problems.length === 0) {
    return { check: 'closure', status: 'pass', message: `${report.checked} ELF files, every needed library is in the layer or the ${runtime.id} runtime`, closure: report };
  }
  const shown = problems.slice(0, 3).join('; ');
  const more = problems.length > 3 ? `; and ${problems.length - 3} more problems` : '';
  return { check: 'closure', status: 'fail', message: `${shown}${more}`, closure: report };
}

/**
 * Fails a layer with setuid, setgid or sticky bits. Not a warning: they cannot work on Lambda
 * (unprivileged user, no_new_privs), so they only matter where they do harm, when the layer is
 * unpacked as root on a host (a Docker stage, a directory layer) and a setuid-root program appears.
 */
export function modesResult(layer: FileTree): CheckResult {
  const found = specialModes(layer.values());
  if (found.length === 0) return { check: 'modes', status: 'pass', message: 'no setuid, setgid or sticky bits' };
  return { check: 'modes', status: 'fail', message: specialModesLine(found) };
}

function commandResult(check: string, command: string, r: SandboxRun, timeoutMs: number, expect?: string): CheckResult {
  const base = { check, command, exitCode: r.exitCode, output: r.output };
  if (r.timedOut) return { ...base, status: 'fail', message: `no result after ${Math.round(timeoutMs / 1000)} s` };
  if (expect !== undefined) {
    const matched = new RegExp(expect).test(r.output);
    if (matched && r.exitCode === 0) return { ...base, status: 'pass', message: outputGist(r.output, 100, 'start') || '(no output)' };
    const why = [r.exitCode !== 0 ? `exit ${r.exitCode}` : '', matched ? '' : `output does not match /${expect}/`].filter(Boolean).join(', ');
    return { ...base, status: 'fail', message: `${why}: ${outputGist(r.output) || '(no output)'}` };
  }
  if (r.exitCode === 0) return { ...base, status: 'pass', message: outputGist(r.output, 100, 'start') || '(no output)' };
  return { ...base, status: 'fail', message: `exit ${r.exitCode}: ${outputGist(r.output) || '(no output)'}` };
}

/**
 * Verifies a layer: the static closure check over every ELF file, then the recipes' smoke tests
 * and the user's commands, each in a fresh Lambda-like container of the runtime's image.
 */
export async function verifyLayer(docker: Docker, image: string, input: VerifyInput, events: VerifyEvents): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const report = (r: CheckResult) => {
    results.push(r);
    events.result(r);
  };
  events.step('checking that every ELF file finds its libraries');
  report(closureResult(checkClosure(input.layer, input.runtime.libraries, { runtime: input.runtime, ...(input.selfContained ? { selfContained: true } : {}) }), input.runtime));
  report(modesResult(input.layer));
  for (const s of input.skipped ?? []) report(s);
  if (input.smoke.length + input.run.length === 0 && !(input.packed && image)) return results;

  const tmpMb = input.packed ? ephemeralStorageMb(input.packed.tmpMb) : undefined;
  events.step(
    `running ${plural(input.smoke.length + input.run.length, 'command')} Lambda-like in ${image}${input.packed ? ', each unpacking the packed tree on its first call' : ''}`,
  );
  await withLambdaSandbox(docker, { image, runtime: input.runtime, layer: input.layer, ...(tmpMb ? { tmpMb } : {}) }, async (sb) => {
    if (input.packed && tmpMb) report(packedFirstCallResult(await sb.run(packedFirstCall(), input.timeoutMs), input.packed, tmpMb));
    for (const s of input.smoke) {
      events.detail(`smoke ${s.recipe}: ${s.run}`);
      report(commandResult(`smoke ${s.recipe}`, s.run, await sb.run(s.run, input.timeoutMs), input.timeoutMs, s.expect));
    }
    for (const cmd of input.run) {
      events.detail(`run: ${cmd}`);
      report(commandResult('run', cmd, await sb.run(cmd, input.timeoutMs), input.timeoutMs));
    }
  });
  return results;
}

/**
 * `PASS smoke poppler-utils: pdftoppm -v 2>&1 (pdftoppm version 22.12.0 …)`. The line is passed
 * through `printable`: file names, sonames, recipe names and program output come from the layer.
 */
export function formatResult(r: CheckResult): string {
  return printable(resultLine(r));
}

function resultLine(r: CheckResult): string {
  const head = `${r.status.toUpperCase()} ${r.check}`;
  if (r.command === undefined) return `${head}: ${r.message}`;
  // a long command (a smoke test that writes its own input) is cut: the line is about the result
  const command = r.command.length > 72 ? `${r.command.slice(0, 71)}…` : r.command;
  return r.status === 'pass' ? `${head}: ${command}  (${r.message})` : `${head}: ${command}: ${r.message}`;
}
