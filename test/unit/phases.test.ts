import { describe, expect, it } from 'vitest';
import { phaseLine, phases } from '../../src/pipeline/phases.js';

const at = (atMs: number, event: string) => ({ atMs, event });

describe('phases of a build, from its --json timeline', () => {
  it.each([
    {
      name: 'a cold apt build: downloads and unpacking overlap, unpack is what remained after the last file',
      timeline: [
        at(200, 'reading the debian12 repositories (x86_64)'),
        at(1200, 'resolving poppler-utils'),
        at(3200, 'downloading and unpacking 32 of 32 packages (0 cached)'),
        at(7000, 'downloading done'),
        at(7100, 'unpacking done'),
        at(7300, 'copying the unpacked packages out of the build container'),
        at(8300, 'running the maintainer scripts: installing 32 packages into a scratch root of the build image'),
        at(15300, 'copying 166 files the scripts generated out of the scratch root'),
        at(16300, 'relocating 627 paths under /opt'),
        at(17300, 'checking that every shared library the layer needs is in the layer or the runtime'),
        at(17800, 'writing /tmp/p.zip'),
      ],
      end: 18300,
      want: { start: 0.2, metadata: 1, resolve: 2, download: 3.8, unpack: 0.3, 'copy out': 1, scripts: 8, relocate: 1, check: 0.5, zip: 0.5 },
    },
    {
      name: 'a warm build: steps no phase names count as other',
      timeline: [at(150, 'resolved plan reused (3 min old; --refresh to resolve again)'), at(400, 'all 32 packages unpacked from the cache'), at(700, 'writing x.zip')],
      end: 900,
      want: { start: 0.15, other: 0.55, zip: 0.2 },
    },
    {
      name: 'a finished build reused: verifying its layer is reuse',
      timeline: [
        at(150, 'resolved plan reused (3 min old; --refresh to resolve again)'),
        at(180, 'layer reused: the same request, plan and yumda as a finished build in the cache'),
        at(260, 'writing x.zip'),
      ],
      end: 300,
      want: { start: 0.15, other: 0.03, reuse: 0.08, zip: 0.04 },
    },
    {
      name: 'a download without a done event runs until the next step',
      timeline: [at(0, 'downloading and unpacking 2 of 2 packages (0 cached)'), at(1000, 'relocating 3 paths under /opt')],
      end: 1500,
      want: { start: 0, download: 1, unpack: 0, relocate: 0.5 },
    },
    { name: 'no steps at all: the whole run is start', timeline: [], end: 300, want: { start: 0.3 } },
  ])('$name', ({ timeline, end, want }) => {
    const got = phases(timeline, end);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [k, v] of Object.entries(want)) expect(got[k], k).toBeCloseTo(v, 6);
  });

  it('prints the phases in order with two decimals', () => {
    expect(phaseLine({ metadata: 1, resolve: 2.345 })).toBe('metadata 1.00, resolve 2.35');
  });
});
