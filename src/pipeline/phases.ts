/**
 * A build's phases (resolve, reuse, download, unpack, copy out, scripts, relocate, check, pack, zip), read
 * off the step titles the build reports and the times --json's `stats.timeline` gives them: the
 * benchmark prints their medians and the end-to-end tests print each big build's, so the next
 * slow phase shows in one run.
 */

/** A step's start, or a long step's end (`<what> done`), in ms since the process started. */
export interface TimelineEvent {
  atMs: number;
  event: string;
}

/** What a step's title says it is, in pipeline order; the last phase of a step runs until the next step. */
export const PHASES: Array<[string, RegExp]> = [
  ['metadata', /^reading the .* repositories/],
  ['resolve', /^resolving /],
  // a finished build of the same request reused (pipeline/reuse.ts): verifying its layer's files
  ['reuse', /^layer reused/],
  ['download', /^downloading and unpacking /],
  ['copy out', /^copying the unpacked packages out/],
  ['scripts', /^(running the maintainer scripts|copying .* the scripts generated)/],
  ['relocate', /^relocating /],
  ['check', /^checking that every shared library/],
  ['pack', /^(packing|copying .* into the build container to compress|compressing the tree|unpacking it once)/],
  ['zip', /^writing /],
];
export const PHASE_NAMES = ['start', ...PHASES.map(([n]) => n).flatMap((n) => (n === 'download' ? ['download', 'unpack'] : [n])), 'other'];

/**
 * Each phase's seconds from a build's timeline: from its step to the next; downloading and
 * unpacking overlap (apt unpacks each file as it arrives), so `download` runs until the last file
 * is in and `unpack` is what unpacking took after that.
 */
export function phases(timeline: TimelineEvent[], endMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (name: string, ms: number) => {
    out[name] = (out[name] ?? 0) + ms / 1000;
  };
  const steps = timeline.filter((t) => !t.event.endsWith(' done'));
  add('start', steps[0]?.atMs ?? endMs);
  for (const [i, t] of steps.entries()) {
    const end = steps[i + 1]?.atMs ?? endMs;
    const name = PHASES.find(([, re]) => re.test(t.event))?.[0] ?? 'other';
    if (name !== 'download') {
      add(name, end - t.atMs);
      continue;
    }
    const downloaded = timeline.find((x) => x.event === 'downloading done' && x.atMs >= t.atMs && x.atMs <= end)?.atMs ?? end;
    add('download', downloaded - t.atMs);
    add('unpack', end - downloaded);
  }
  return out;
}

/** `metadata 1.20, resolve 2.31, …`: the phases that took any time, in order. */
export function phaseLine(p: Record<string, number>): string {
  return Object.entries(p)
    .map(([n, x]) => `${n} ${x.toFixed(2)}`)
    .join(', ');
}
