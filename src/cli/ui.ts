import type { TimelineEvent } from '../pipeline/phases.js';
import { repositoryLines, type BuildEvents, type BuildSetup } from '../pipeline/build.js';
import type { Arch } from '../registry/arch.js';
import type { Repository, Target } from '../registry/types.js';
import type { Plan } from '../resolve/plan.js';
import { directParents } from '../resolve/chains.js';
import { formatBytes, shortList } from '../util/format.js';
import { printable } from '../util/printable.js';
import { progressLine, type ProgressState } from '../util/progress.js';
import { plural } from '../util/plural.js';

export type OutputMode = 'tty' | 'plain' | 'json' | 'quiet';

export function outputMode(opts: { json?: boolean; quiet?: boolean }): OutputMode {
  if (opts.json) return 'json';
  if (opts.quiet) return 'quiet';
  return process.stderr.isTTY && !process.env.CI ? 'tty' : 'plain';
}

/**
 * Progress and results for people and for CI. Progress goes to stderr: on a terminal the latest
 * detail overwrites one status line; elsewhere (CI, pipes) every step and detail is a plain line.
 * Results (plan, summary) go to stdout, except in --json mode where stdout carries only the JSON.
 */
/** How often a plain (CI, --json) progress line is written. */
const PLAIN_PROGRESS_EVERY_MS = 5000;

export class Reporter implements BuildEvents {
  private statusShown = false;
  /** The image and repositories were printed up front; the plan need not repeat them. */
  private sourcesShown = false;
  private readonly started = Date.now();

  /**
   * When each step began and each long step's progress ended, in ms since the process started:
   * --json's `stats.timeline`, from which the benchmark reads each phase's time.
   */
  readonly timeline: TimelineEvent[] = [];

  constructor(readonly mode: OutputMode) {}

  private mark(event: string): void {
    this.timeline.push({ atMs: Math.round(performance.now()), event });
  }

  private clearStatus(): void {
    if (this.statusShown) {
      process.stderr.write('\r\x1b[K');
      this.statusShown = false;
    }
  }

  private elapsed(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(1)}s`;
  }

  readonly step = (title: string): void => {
    this.mark(title);
    if (this.mode === 'quiet') return;
    this.clearStatus();
    process.stderr.write(`[${this.elapsed()}] ${printable(title)}\n`);
  };

  readonly detail = (raw: string): void => {
    if (this.mode === 'quiet') return;
    const line = printable(raw);
    if (this.mode === 'tty') {
      const width = (process.stderr.columns ?? 100) - 4;
      process.stderr.write(`\r\x1b[K  ${line.length > width ? line.slice(0, width - 1) + '…' : line}`);
      this.statusShown = true;
    } else if (this.mode === 'plain' || this.mode === 'json') {
      process.stderr.write(`  ${line}\n`);
    }
  };

  private lastProgress = new Map<string, number>();

  /**
   * A terminal shows where a long step is on its status line, updated as it goes; CI logs and
   * --json get a plain line every few seconds and the last one, not one per package.
   */
  readonly progress = (state: ProgressState, final: boolean): void => {
    if (final) this.mark(`${state.what} done`);
    if (this.mode === 'quiet') return;
    const line = progressLine(state);
    if (this.mode === 'tty') {
      this.detail(line);
      return;
    }
    const now = Date.now();
    const last = this.lastProgress.get(state.what);
    if (!final && last !== undefined && now - last < PLAIN_PROGRESS_EVERY_MS) return;
    this.lastProgress.set(state.what, now);
    process.stderr.write(`  ${line}\n`);
  };

  warn(message: string): void {
    this.clearStatus();
    process.stderr.write(`warning: ${printable(message)}\n`);
  }

  /** A result line for people (stdout); silent in --json and --quiet modes. */
  info(text: string): void {
    if (this.mode === 'json' || this.mode === 'quiet') return;
    this.clearStatus();
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  /** What the build will use, before anything runs: so a failure to build or reach it still says it. */
  setup(s: BuildSetup): void {
    if (this.mode === 'json' || this.mode === 'quiet') return;
    this.info(formatSetup(s));
    this.sourcesShown = true;
  }

  plan(plan: Plan, ctx: { target: Target; arch: Arch; image: string; repositories: Repository[]; runtime?: string }): void {
    for (const s of plan.skew) {
      this.warn(`${s.name}: the runtime has ${s.runtimeVersion}, the packages need ${s.neededVersion}; the layer ships ${s.neededVersion}`);
    }
    if (this.mode === 'json' || this.mode === 'quiet') return;
    this.info(formatPlan(plan, ctx, { sources: !this.sourcesShown }));
  }

  done(): void {
    this.clearStatus();
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function sourceLines(target: Target, arch: Arch, image: string, repositories: Repository[], imageSource?: string): string[] {
  return [
    `  build image:  ${image}${imageSource ? ` (${imageSource})` : ''}`,
    ...repositoryLines(target, arch, repositories).map((r, i) => `  ${i === 0 ? 'repositories:' : '             '} ${r}`),
  ];
}

export function formatSetup(s: BuildSetup): string {
  return [`Building for ${s.target.id} ${s.arch.lambda} (runtime ${s.runtime.id})`, ...sourceLines(s.target, s.arch, s.image, s.repositories, s.imageSource)].join('\n');
}

export function formatPlan(plan: Plan, ctx: { target: Target; arch: Arch; image: string; repositories: Repository[]; runtime?: string }, opts: { sources?: boolean } = {}): string {
  const dl = plan.packages.reduce((n, p) => n + p.downloadSize, 0);
  const inst = plan.packages.reduce((n, p) => n + p.installedSize, 0);
  const lines = [
    `Plan: ${plural(plan.packages.length, 'package')} for ${ctx.target.id} ${ctx.arch.lambda} (${formatBytes(dl)} to download, ${formatBytes(inst)} unpacked before relocation)`,
    ...(opts.sources === false ? [] : sourceLines(ctx.target, ctx.arch, ctx.image, ctx.repositories)),
  ];
  // packages from a repository the distribution does not support as its own (SPAL) say so, in a column of their own
  const noted = supportNotes(plan, ctx.repositories);
  // the package one step nearer a requested one (`yumda why` prints the whole chain); the requested
  // ones themselves where the plan has no dependency records to follow
  const parents = directParents(
    plan.packages,
    plan.packages.filter((p) => p.requested).map((p) => p.name),
  );
  const rows = plan.packages.map((p) => [
    p.name,
    p.version,
    formatBytes(p.installedSize),
    p.requested ? '(requested)' : shortList(parents.get(p.name) ?? p.requiredBy, 2),
    ...(noted.length ? [p.repository ?? ''] : []),
  ]);
  const head = ['PACKAGE', 'VERSION', 'SIZE', 'PULLED IN BY', ...(noted.length ? ['REPOSITORY'] : [])];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  lines.push(
    '  ' +
      head
        .map((h, i) => pad(h, widths[i]!))
        .join('  ')
        .trimEnd(),
  );
  for (const r of rows)
    lines.push(
      '  ' +
        r
          .map((c, i) => (i === 2 ? c.padStart(widths[i]!) : pad(c, widths[i]!)))
          .join('  ')
          .trimEnd(),
    );
  if (plan.fromRuntime.length) lines.push(`  provided by the ${ctx.runtime ?? ctx.target.runtime} runtime, not shipped: ${plan.fromRuntime.join(', ')}`);
  for (const n of noted) lines.push(`  ${n}`);
  return lines.join('\n');
}

/** Once per repository the plan takes packages from that has a support note: `amazonlinux-spal: 3 packages; SPAL packages have no AWS support…`. */
export function supportNotes(plan: Pick<Plan, 'packages'>, repositories: readonly Repository[]): string[] {
  return repositories.flatMap((r) => {
    const n = plan.packages.filter((p) => p.repository === r.id).length;
    return r.supportNote && n ? [`${r.id}: ${plural(n, 'package')}; ${r.supportNote}`] : [];
  });
}
