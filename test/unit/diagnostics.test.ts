import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../src/util/diagnostics.js';
import { errorJson, errorReport, inStep, UserError } from '../../src/util/errors.js';

describe('one channel for warnings', () => {
  it('says each line as it comes and keeps every one, in order', () => {
    const said: string[] = [];
    const d = new Diagnostics((l) => said.push(l));
    d.warn('a');
    d.child('unpack tools: ').warn('b');
    expect(said).toEqual(['a', 'unpack tools: b']);
    expect(d.warnings).toEqual(['a', 'unpack tools: b']);
  });

  it('without a sink (a dry run) only keeps them', () => {
    const d = new Diagnostics();
    d.warn('kept');
    expect(d.warnings).toEqual(['kept']);
  });
});

describe('an internal error names the build step it came from, once', () => {
  it('the innermost step wins; class, code and message stay', () => {
    const e = Object.assign(new TypeError('x is undefined'), { code: 'EX' });
    inStep(inStep(e, 'relocating'), 'building');
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe('EX');
    expect(e.message).toBe('x is undefined');
    expect(errorReport(e).split('\n')[0]).toBe('yumda: internal error while relocating: x is undefined');
    expect(JSON.parse(errorJson(e))).toEqual({ error: 'internal error while relocating: x is undefined', internal: true });
  });

  it("a user's error is left as it is: its message already says what it is about", () => {
    const e = new UserError('no package named foo');
    inStep(e, 'resolving the plan');
    expect(errorReport(e)).toBe('yumda: error: no package named foo\n');
  });

  it('an error without a step says none', () => {
    expect(errorReport(new Error('boom')).split('\n')[0]).toBe('yumda: internal error: boom');
  });
});
