import { describe, expect, it } from 'vitest';
import { changesOnlyRoot, distributionLinks, inPlacePlans, linksToReach, rootSwaps, swapRoot } from '../../src/relocate/subpaths.js';

const M = 'x86_64-linux-gnu';

describe('swapRoot: the root component swapped, every later byte kept', () => {
  it.each([
    ['/usr/lib/x86_64-linux-gnu', '/opt/lib/x86_64-linux-gnu'],
    ['/usr', '/opt'],
    ['/usr/', '/opt/'],
    ['/etc/fonts/fonts.conf', '/opt/fonts/fonts.conf'],
    ['/var/cache/fontconfig', '/tmp/cache/fontconfig'],
    ['/usr/lib/x86_64-linux-gnu/ImageMagick-6.9.11//modules-Q16', '/opt/lib/x86_64-linux-gnu/ImageMagick-6.9.11//modules-Q16'],
    ['/usrlocal/x', undefined],
    ['/lib/x86_64-linux-gnu/libc.so.6', undefined],
    ['/opt/x', undefined],
    ['usr/lib', undefined],
  ])('%s → %s', (from, to) => {
    expect(swapRoot(from)).toBe(to);
    if (to) expect(to.length).toBe(from.length);
  });
});

describe('rootSwaps: every same-length root, preferred first', () => {
  it('drops /var into the tail when the tail is already the place (/var/tmp is /tmp)', () => {
    expect(rootSwaps('/var/tmp')).toEqual(['/tmp/tmp', '/////tmp']);
    expect(linksToReach('/var/tmp', M)).toMatchObject({ why: expect.stringMatching(/\/tmp\/tmp, outside the layer/) });
    expect(linksToReach('/var/tmp/x', M, '////')).toEqual({ links: [] });
    expect(linksToReach('/var/cache/x', M, '////')).toMatchObject({ why: expect.any(String) });
  });
});

describe('linksToReach: the links under which the kept tail leads to the layout', () => {
  it.each([
    { path: '/usr/bin/tool', links: [] },
    { path: '/usr/share/fonts/x.ttf', links: [] },
    { path: `/usr/lib/${M}/libfoo.so.1`, links: [{ link: `/opt/lib/${M}`, target: '.' }] },
    { path: `/usr/lib/${M}`, links: [{ link: `/opt/lib/${M}`, target: '.' }] },
    { path: '/usr/lib64/libfoo.so.1', links: [{ link: '/opt/lib64', target: 'lib' }] },
    { path: '/usr/sbin/daemon', links: [{ link: '/opt/sbin', target: 'bin' }] },
    { path: '/usr/games/fortune', links: [{ link: '/opt/games', target: 'bin' }] },
    {
      path: `/usr/local/lib/${M}/libbar.so`,
      links: [
        { link: '/opt/local', target: '.' },
        { link: `/opt/lib/${M}`, target: '.' },
      ],
    },
    { path: '/usr/local/share/x', links: [{ link: '/opt/local', target: '.' }] },
    { path: '/etc/fonts/fonts.conf', links: [{ link: '/opt/fonts', target: 'etc/fonts' }] },
    { path: '/var/cache/fontconfig', links: [] },
  ])('$path', ({ path, links }) => {
    expect(linksToReach(path, M)).toEqual({ links });
  });

  it.each([
    ['/etc', /names \/opt, and the layer puts it at \/opt\/etc/],
    ['/usr/lib/../share', /climbs/],
    ['/lib/x86_64-linux-gnu/libc.so.6', /no root/],
  ])('%s cannot be served', (path, why) => {
    const r = linksToReach(path, M);
    expect('why' in r && r.why).toMatch(why);
  });
});

describe('distributionLinks: folded directories the layer ships from stay reachable', () => {
  it('links only the folded directories something came from', () => {
    expect(distributionLinks([`/usr/lib/${M}/libz.so.1`, '/usr/bin/tool', '/usr/share/x', '/etc/x.conf'], M)).toEqual([
      { link: `/opt/lib/${M}`, target: '.' },
      // <prefix>/<last component of libdir>, as programs that locate themselves derive it
      { link: `/opt/${M}`, target: 'lib' },
    ]);
    expect(distributionLinks(['/usr/sbin/d', '/usr/lib64/libq.so', '/usr/local/bin/t'], M)).toEqual([
      { link: '/opt/lib64', target: 'lib' },
      { link: '/opt/local', target: '.' },
      { link: '/opt/sbin', target: 'bin' },
    ]);
    expect(distributionLinks(['/usr/bin/tool'], M)).toEqual([]);
  });
});

describe('changesOnlyRoot', () => {
  it.each([
    ['/usr/share/x', '/opt/share/x', true],
    ['/usr/lib/x86_64-linux-gnu', '/opt/lib/////////////////', false],
    ['/etc/foo', '/opt/foo', true],
    ['/usr/share/x', '/opt/share/y', false],
    ['/usr/share/x', '/opt/share/xx', false],
  ])('%s → %s: %s', (from, to, ok) => {
    expect(changesOnlyRoot(from, to)).toBe(ok);
  });
});

describe('inPlacePlans: first components only, preferred first', () => {
  const T = { link: `/opt/${M}`, target: 'lib' };
  const L = { link: `/opt/lib/${M}`, target: '.' };
  it.each([
    { s: '/usr/bin/tool', plans: [{ to: '/opt/bin/tool', links: [] }] },
    {
      s: `/usr/lib/${M}`,
      plans: [
        { to: `/opt/././${M}`, links: [T] },
        { to: `/opt/lib/${M}`, links: [L] },
      ],
    },
    {
      s: `/usr/lib/${M}/gstreamer1.0/`,
      plans: [
        { to: `/opt/././${M}/gstreamer1.0/`, links: [T] },
        { to: `/opt/lib/${M}/gstreamer1.0/`, links: [L] },
      ],
    },
    {
      s: `lib/${M}`,
      plans: [
        { to: `././${M}`, links: [T] },
        { to: `lib/${M}`, links: [L] },
      ],
    },
    {
      s: `lib/${M}/gstreamer1.0`,
      plans: [
        { to: `././${M}/gstreamer1.0`, links: [T] },
        { to: `lib/${M}/gstreamer1.0`, links: [L] },
      ],
    },
    { s: 'share/git-core/templates', plans: [{ to: 'share/git-core/templates', links: [] }] },
    { s: 'lib64/plugins', plans: [{ to: 'lib64/plugins', links: [{ link: '/opt/lib64', target: 'lib' }] }] },
    { s: '/var/tmp', plans: [{ to: '/////tmp', links: [] }] },
    { s: '/etc/fonts/fonts.conf', plans: [{ to: '/opt/fonts/fonts.conf', links: [{ link: '/opt/fonts', target: 'etc/fonts' }] }] },
    {
      s: `/usr/lib/${M}/ImageMagick-6.9.11//modules-Q16`,
      plans: [
        { to: `/opt/././${M}/ImageMagick-6.9.11//modules-Q16`, links: [T] },
        { to: `/opt/lib/${M}/ImageMagick-6.9.11//modules-Q16`, links: [L] },
      ],
    },
  ])('$s', ({ s, plans }) => {
    const r = inPlacePlans(s, M);
    expect(r).toEqual(plans);
    for (const p of plans) expect(p.to.length).toBe(s.length);
  });

  it.each([
    ['/etc', /\/opt\/etc/],
    ['/usr/lib/../share', /climbs/],
    ['/lib/x86_64-linux-gnu/libc.so.6', /no same-length/],
  ])('%s: none', (s, why) => {
    const r = inPlacePlans(s, M);
    expect('why' in r && r.why).toMatch(why);
  });
});
