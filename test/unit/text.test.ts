import { describe, expect, it } from 'vitest';
import { isText, parseShebang, rewritePathsInText } from '../../src/relocate/text.js';
import { globToRegExp } from '../../src/relocate/glob.js';

describe('paths in text', () => {
  const map = (p: string) => (p.startsWith('/usr/share/fonts') ? p.replace('/usr/share', '/opt/share') : p.startsWith('/var/') ? '/tmp' + p : undefined);

  it('rewrites the paths the map knows and keeps trailing slashes', () => {
    const { text, rewrites } = rewritePathsInText('<dir>/usr/share/fonts</dir>\n<dir>/usr/share/fonts/truetype/</dir>\n<cachedir>/var/cache/fontconfig</cachedir>', map);
    expect(text).toBe('<dir>/opt/share/fonts</dir>\n<dir>/opt/share/fonts/truetype/</dir>\n<cachedir>/tmp/var/cache/fontconfig</cachedir>');
    expect(rewrites.map((r) => r.from)).toEqual(['/usr/share/fonts', '/usr/share/fonts/truetype', '/var/cache/fontconfig']);
  });

  it('rewrites the path of a file:// URL (LibreOffice rc files), not of other URLs', () => {
    const src = 'BRAND_BASE_DIR=file:///usr/share/fonts/x\nJ=file:///usr/share/java/a.jar\nU=http://h/usr/share/fonts notfile:///usr/share/fonts\n';
    expect(rewritePathsInText(src, map).text).toBe(
      'BRAND_BASE_DIR=file:///opt/share/fonts/x\nJ=file:///usr/share/java/a.jar\nU=http://h/usr/share/fonts notfile:///usr/share/fonts\n',
    );
  });

  it('rewrites every element of a path list, not only the first', () => {
    const src = 'CLASSPATH=/usr/share/fonts/a.jar:/usr/share/fonts/b.jar:/usr/share/fonts/c.jar\nexport P="/usr/share/fonts:/usr/local/share/fonts:/var/x"\n';
    expect(rewritePathsInText(src, map).text).toBe(
      'CLASSPATH=/opt/share/fonts/a.jar:/opt/share/fonts/b.jar:/opt/share/fonts/c.jar\nexport P="/opt/share/fonts:/usr/local/share/fonts:/tmp/var/x"\n',
    );
  });

  it('leaves paths inside URLs, relative paths and unknown paths alone', () => {
    const src = 'see http://example.com/usr/share/fonts and ./usr/share/fonts and /usr/local/share/fonts';
    expect(rewritePathsInText(src, map).text).toBe(src);
  });

  describe('a directory joined to a variable the script assigns', () => {
    // what the layer ships: /usr/lib/chromium (→ /opt/lib/chromium), not /usr/lib itself
    const libMap = (p: string) => (p === '/usr/lib/chromium' || p.startsWith('/usr/lib/chromium/') ? p.replace('/usr/lib', '/opt/lib') : undefined);
    it.each([
      [
        'Debian chromium launcher',
        'APPNAME=chromium\nLIBDIR=/usr/lib/$APPNAME\nexec $LIBDIR/$APPNAME "$@"\n',
        'APPNAME=chromium\nLIBDIR=/opt/lib/$APPNAME\nexec $LIBDIR/$APPNAME "$@"\n',
      ],
      ['braces and a quoted value', 'export NAME="chromium"\nexec "/usr/lib/${NAME}/chromium"\n', 'export NAME="chromium"\nexec "/opt/lib/${NAME}/chromium"\n'],
      ['a value the layer does not ship: left alone', 'APPNAME=firefox\nLIBDIR=/usr/lib/$APPNAME\n', 'APPNAME=firefox\nLIBDIR=/usr/lib/$APPNAME\n'],
      ['a variable never assigned: left alone', 'LIBDIR=/usr/lib/$1\nX=/usr/lib/$UNSET\n', 'LIBDIR=/usr/lib/$1\nX=/usr/lib/$UNSET\n'],
      ['no slash before the variable: left alone', 'APPNAME=chromium\nX=/usr/lib$APPNAME\n', 'APPNAME=chromium\nX=/usr/lib$APPNAME\n'],
    ])('%s', (_what, src, out) => {
      expect(rewritePathsInText(src, libMap).text).toBe(out);
    });
    it('reports the rewrite with its variable', () => {
      expect(rewritePathsInText('APPNAME=chromium\nLIBDIR=/usr/lib/$APPNAME\n', libMap).rewrites).toEqual([{ from: '/usr/lib/$APPNAME', to: '/opt/lib/$APPNAME' }]);
    });
  });

  it('tells text from binary', () => {
    expect(isText(Buffer.from('hello /usr/share\n'))).toBe(true);
    expect(isText(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]))).toBe(false);
    expect(isText(Buffer.from([0xff, 0xfe, 0x41]))).toBe(false);
  });

  it('parses shebangs', () => {
    expect(parseShebang(Buffer.from('#!/usr/bin/env python3\nprint(1)\n'))).toMatchObject({ interpreter: '/usr/bin/env', arg: 'python3' });
    expect(parseShebang(Buffer.from('#! /bin/sh\n'))).toMatchObject({ interpreter: '/bin/sh', arg: undefined });
    expect(parseShebang(Buffer.from('echo hi\n'))).toBeUndefined();
  });
});

describe('globs', () => {
  it('matches * within a component and ** across', () => {
    expect(globToRegExp('/usr/share/foo/*.conf').test('/usr/share/foo/a.conf')).toBe(true);
    expect(globToRegExp('/usr/share/foo/*.conf').test('/usr/share/foo/x/a.conf')).toBe(false);
    expect(globToRegExp('/usr/share/**/*.conf').test('/usr/share/foo/x/a.conf')).toBe(true);
    expect(globToRegExp('/usr/share/foo/**').test('/usr/share/foo/x/y')).toBe(true);
  });
});
