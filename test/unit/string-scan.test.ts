import { describe, expect, it } from 'vitest';
import { PATH_IN_BINARY } from '../../src/elf/patch.js';
import { keyedDirectories } from '../../src/relocate/directories.js';
import { PATH_IN_TEXT } from '../../src/relocate/text.js';

/**
 * Issue 24: the two patterns relocation runs over every string section were rewritten to be fast
 * (a lookbehind at every byte made them most of relocation's time). They must find exactly what
 * the patterns they replace found: those are kept here as the reference. (Checked also over the
 * string sections of 1,834 ELF files of a Debian host and the ghostscript, imagemagick and
 * poppler layers, and for text over 24,000 text files of the host and those layers: no difference.)
 */
const PATH_BEFORE = /(?:(?<=file:\/\/)|(?<![A-Za-z0-9_.\-/]))\/(?:usr|etc|var)\/(?:[A-Za-z0-9_.+@=\-/]|,(?!\/))*/g;
const TEXT_BEFORE = /(?:(?<=-[LIR])|(?<=(?<![\w.+-])file:\/\/)|(?<![\w.~/@$}%-]))\/(?:usr|etc|var|lib|lib64|bin|sbin|opt)(?:\/[\w.+@%,-]+)*\/?/g;
const KEYED_BEFORE = /(?<=^|\0)([A-Za-z_][A-Za-z0-9_]*=)(\/[A-Za-z0-9_.+@,\-/]*)(?=\0)/g;

const SAMPLES = [
  '/usr/share/x\0/etc/fonts/fonts.conf\0',
  'file:///usr/lib/libreoffice/program\0',
  'xfile:///etc/a and .file:///var/b',
  'a/usr/x -/usr/y _/etc/z ./var/w //usr/v',
  ' /usr/z,/etc/q {/etc/texmf/web2c,/usr/share/texmf/web2c}',
  'PATH=/usr/local/bin:/usr/bin:/bin\0',
  '/usr//usr/x /usr/ /etc /var/\0',
  'file://file:///usr/q\0',
  'qt_prfxpath=/usr\0qt_libspath=/usr/lib/x86_64-linux-gnu\0',
  'a=/x\0b=/usr/lib\0A=/x=/y\0=/usr\0k=/a b\0x\0_K9=/opt/a,b\0K=/\0k=/a\0k2=/b',
  '\0\0=/=/\0z=/usr',
  '-L/usr/lib -I/usr/include -R/opt/lib a-file:///usr/x http://host/usr/x ${prefix}/lib ~/usr $}/usr %/usr @/usr',
  'CLASSPATH=/usr/share/java/a.jar:/usr/share/java/b.jar\nLIBDIR=/usr/lib/$APPNAME/\n#!/bin/sh\n/lib64/ld.so /opt/x /usr',
];

describe('string patterns over sections', () => {
  it.each(SAMPLES)('paths in %j are what the earlier pattern found', (text) => {
    const list = (re: RegExp) => [...text.matchAll(re)].map((m) => [m.index, m[0]]);
    expect(list(PATH_IN_BINARY)).toEqual(list(PATH_BEFORE));
  });

  it.each(SAMPLES)('paths in text %j are what the earlier pattern found', (text) => {
    const list = (re: RegExp) => [...text.matchAll(re)].map((m) => [m.index, m[0]]);
    expect(list(PATH_IN_TEXT)).toEqual(list(TEXT_BEFORE));
  });

  it.each(SAMPLES)('keyed directories in %j are what the earlier pattern found', (text) => {
    const before = [...text.matchAll(KEYED_BEFORE)].map((m) => ({ offset: 100 + m.index + m[1]!.length, key: m[1], value: m[2] }));
    expect(keyedDirectories({ offset: 100, text })).toEqual(before);
  });

  it('the samples hold matches of both kinds (or the comparison proves little)', () => {
    const all = SAMPLES.join('\0');
    expect([...all.matchAll(PATH_BEFORE)].length).toBeGreaterThan(10);
    expect([...all.matchAll(KEYED_BEFORE)].length).toBeGreaterThan(4);
    expect([...all.matchAll(TEXT_BEFORE)].length).toBeGreaterThan(20);
  });
});
