import { describe, expect, it } from 'vitest';
import { raw, renderTemplate } from '../../src/util/template.js';

describe('renderTemplate: shell templates with named values', () => {
  it('quotes a string as one word, a list as words, and leaves numbers and raw text as they are', () => {
    const t = 'd=__DIR__\nlinks=(__LINKS__)\nn=$((SECONDS + __WAIT__))\necho "__MESSAGE__"\n';
    expect(renderTemplate(t, { DIR: "/tmp/it's here", LINKS: ['bin', 'a b'], WAIT: 60, MESSAGE: raw('cannot unpack /tmp/x') })).toBe(
      "d='/tmp/it'\\''s here'\nlinks=(bin 'a b')\nn=$((SECONDS + 60))\necho \"cannot unpack /tmp/x\"\n",
    );
  });

  it('puts a value wherever its name stands, as often as it does', () => {
    expect(renderTemplate('__A__/__A__ __B__\n', { A: 'x', B: 'y' })).toBe('x/x y\n');
  });

  it('gives a whole-line placeholder the line, and removes the line for an empty value', () => {
    const t = 'a\n__LINES__\nb\n';
    expect(renderTemplate(t, { LINES: raw('x=1\ny=2\n') })).toBe('a\nx=1\ny=2\nb\n');
    expect(renderTemplate(t, { LINES: raw('') })).toBe('a\nb\n');
    expect(renderTemplate(t, { LINES: [] })).toBe('a\nb\n');
  });

  it('keeps one side of #if for a boolean value, and drops the markers', () => {
    const t = 'a\n  #if BASH\nexec -a "$0" __REAL__\n  #else\nexec __REAL__\n  #end\nb\n';
    expect(renderTemplate(t, { BASH: true, REAL: '/x' })).toBe('a\nexec -a "$0" /x\nb\n');
    expect(renderTemplate(t, { BASH: false, REAL: '/x' })).toBe('a\nexec /x\nb\n');
    expect(renderTemplate('#if A\nx\n#end\n', { A: false })).toBe('');
  });

  it("asks no value for a placeholder in a side that is left out, yet counts it as the template's", () => {
    const t = '#if TARGET\nexec __PROGRAM__\n#end\n';
    expect(renderTemplate(t, { TARGET: false })).toBe('');
    expect(renderTemplate(t, { TARGET: false, PROGRAM: 'x' })).toBe('');
  });

  it('drops the lines that are for shellcheck', () => {
    expect(renderTemplate('#!__SHELL__\n# shellcheck shell=sh\n# a comment\n', { SHELL: raw('/bin/sh') })).toBe('#!/bin/sh\n# a comment\n');
  });

  it.each<[string, string, Record<string, unknown>, RegExp]>([
    ['a placeholder without a value', 'x=__X__\n', {}, /t:1: __X__ has no value/],
    ['a value the template never names', 'x=1\n', { X: 'a' }, /never names: X/],
    ['a boolean as a value', 'x=__X__\n', { X: true }, /__X__ is a yes or no/],
    ['an #if without a boolean', '#if X\n#end\n', { X: 'a' }, /#if X needs a yes or no, not string/],
    ['an #if without a value', '#if X\n#end\n', {}, /#if X needs a yes or no, not nothing/],
    ['an #if inside an #if', '#if X\n#if Y\n#end\n#end\n', { X: true, Y: true }, /#if inside #if/],
    ['an #if without #end', '#if X\n', { X: true }, /#if without #end/],
    ['an #end without #if', '#end\n', {}, /#end without #if/],
    ['a second #else', '#if X\n#else\n#else\n#end\n', { X: true }, /#else without its #if/],
    ['a number that is none', 'x=__X__\n', { X: Number.NaN }, /not a number/],
  ])('throws on %s', (_what, t, values, error) => {
    expect(() => renderTemplate(t, values as never, 't')).toThrow(error);
  });

  it('leaves what only looks like a placeholder alone', () => {
    expect(renderTemplate('echo __lower__ ___ _A_\n', {})).toBe('echo __lower__ ___ _A_\n');
  });
});
