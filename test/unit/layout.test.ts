import { describe, expect, it } from 'vitest';
import { DEFAULT_KEEP, place, relocatedAddress } from '../../src/relocate/placement.js';

const opts = { triplet: 'x86_64-linux-gnu', keep: DEFAULT_KEEP };
const to = (p: string, o = opts) => {
  const r = place(p, o);
  return r.kind === 'place' ? r.to : `drop:${r.reason}`;
};

describe('layout rules', () => {
  it('folds every executable directory into /opt/bin', () => {
    expect(to('/usr/bin/pdftoppm')).toBe('/opt/bin/pdftoppm');
    expect(to('/bin/bash')).toBe('/opt/bin/bash');
    expect(to('/usr/sbin/foo')).toBe('/opt/bin/foo');
    expect(to('/sbin/ldconfig')).toBe('/opt/bin/ldconfig');
  });

  it('folds every library directory into /opt/lib, keeping subdirectories', () => {
    expect(to('/usr/lib/x86_64-linux-gnu/libpoppler.so.126')).toBe('/opt/lib/libpoppler.so.126');
    expect(to('/lib/x86_64-linux-gnu/libz.so.1')).toBe('/opt/lib/libz.so.1');
    expect(to('/usr/lib64/libfoo.so.1')).toBe('/opt/lib/libfoo.so.1');
    expect(to('/lib64/libbar.so.2')).toBe('/opt/lib/libbar.so.2');
    expect(to('/usr/lib/git-core/git-remote-http')).toBe('/opt/lib/git-core/git-remote-http');
    expect(to('/usr/lib/x86_64-linux-gnu/ImageMagick-6.9.11/modules-Q16/coders/png.so')).toBe('/opt/lib/ImageMagick-6.9.11/modules-Q16/coders/png.so');
  });

  it('uses the target triplet, not the host one', () => {
    const arm = { ...opts, triplet: 'aarch64-linux-gnu' };
    expect(to('/usr/lib/aarch64-linux-gnu/libz.so.1', arm)).toBe('/opt/lib/libz.so.1');
    expect(to('/usr/lib/x86_64-linux-gnu/libz.so.1', arm)).toBe('/opt/lib/x86_64-linux-gnu/libz.so.1');
  });

  it('moves share, etc and libexec', () => {
    expect(to('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf')).toBe('/opt/share/fonts/truetype/dejavu/DejaVuSans.ttf');
    expect(to('/etc/fonts/fonts.conf')).toBe('/opt/etc/fonts/fonts.conf');
    expect(to('/usr/libexec/git-core/git')).toBe('/opt/libexec/git-core/git');
  });

  it('drops docs, man pages, headers, static libraries, locales and state by default', () => {
    expect(to('/usr/share/doc/poppler-utils/copyright')).toBe('drop:docs');
    expect(to('/usr/share/man/man1/pdftoppm.1.gz')).toBe('drop:man');
    expect(to('/usr/share/info/dir')).toBe('drop:man');
    expect(to('/usr/share/lintian/overrides/x')).toBe('drop:docs');
    expect(to('/usr/include/poppler/Page.h')).toBe('drop:headers');
    expect(to('/usr/lib/x86_64-linux-gnu/libz.a')).toBe('drop:static');
    expect(to('/usr/share/locale/de/LC_MESSAGES/x.mo')).toBe('drop:locale');
    expect(to('/var/cache/fontconfig')).toBe('drop:state');
    expect(to('/usr/lib/debug/.build-id/aa/bb.debug')).toBe('drop:debug');
    expect(to('/run/x')).toBe('drop:system');
  });

  it('keeps what the user asks to keep', () => {
    const keep = { ...opts, keep: { docs: true, locales: true, headers: true, staticLibs: true } };
    expect(to('/usr/share/doc/x/copyright', keep)).toBe('/opt/share/doc/x/copyright');
    expect(to('/usr/share/man/man1/x.1.gz', keep)).toBe('/opt/share/man/man1/x.1.gz');
    expect(to('/usr/include/zlib.h', keep)).toBe('/opt/include/zlib.h');
    expect(to('/usr/lib/x86_64-linux-gnu/libz.a', keep)).toBe('/opt/lib/libz.a');
  });

  it('addresses /var under /tmp and leaves foreign roots alone', () => {
    expect(relocatedAddress('/var/cache/fontconfig', 'x86_64-linux-gnu')).toBe('/tmp/cache/fontconfig');
    expect(relocatedAddress('/var/tmp/x', 'x86_64-linux-gnu')).toBe('/tmp/x');
    expect(relocatedAddress('/proc/self/exe', 'x86_64-linux-gnu')).toBe('/proc/self/exe');
  });
});
