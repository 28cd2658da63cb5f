import { describe, expect, it } from 'vitest';
import { literalPattern, matchKind, rankHits } from '../../src/resolve/search.js';

const hit = (name: string, summary: string) => ({ name, summary, version: '1', arch: 'amd64' });

describe('search ranking (issue 22: yumda search)', () => {
  it.each([
    { name: 'jq', summary: 'lightweight and flexible command-line JSON processor', words: ['jq'], kind: 'exact' },
    { name: 'JQ', summary: '', words: ['jq'], kind: 'exact' },
    { name: 'jq-doc', summary: 'documentation', words: ['jq'], kind: 'prefix' },
    { name: 'libjq1', summary: 'library', words: ['jq'], kind: 'substring' },
    { name: 'jshon', summary: 'parse JSON like jq', words: ['jq'], kind: 'summary' },
    { name: 'jshon', summary: 'parse JSON', words: ['jq'], kind: undefined },
    // every word must match, in the name or the summary; the name's best match decides
    { name: 'jq', summary: 'JSON processor', words: ['json', 'jq'], kind: 'exact' },
    { name: 'jq', summary: 'JSON processor', words: ['yaml', 'jq'], kind: undefined },
    { name: 'python3-jq', summary: 'Python bindings', words: ['python', 'jq'], kind: 'prefix' },
  ])('$name / "$summary" for $words: $kind', ({ name, summary, words, kind }) => {
    expect(matchKind(name, summary, words)).toBe(kind);
  });

  it('ranks the exact name first, then prefixes, substrings and summaries, shorter names first', () => {
    const hits = [
      hit('jshon', 'parse JSON like jq'),
      hit('libjq-dev', 'development files'),
      hit('jq-doc', 'documentation'),
      hit('libjq1', 'library'),
      hit('node-jquery', 'jQuery'),
      hit('jq', 'JSON processor'),
      hit('jq', 'a second record of the same name'),
      hit('gojq', 'jq in Go'),
      hit('zsh', 'shell'),
    ];
    expect(rankHits(hits, ['jq']).map((h) => [h.name, h.match])).toEqual([
      ['jq', 'exact'],
      ['jq-doc', 'prefix'],
      ['gojq', 'substring'],
      ['libjq1', 'substring'],
      ['libjq-dev', 'substring'],
      ['node-jquery', 'substring'],
      ['jshon', 'summary'],
    ]);
    expect(rankHits(hits, ['jq'])[0]!.summary).toBe('JSON processor');
  });

  it.each([
    ['jq', 'jq'],
    ['g++', 'g\\+\\+'],
    ['libstdc++6', 'libstdc\\+\\+6'],
    ['a.b', 'a\\.b'],
    ['(x|y)*', '\\(x\\|y\\)\\*'],
  ])('%s is matched literally by apt as %s', (word, pattern) => {
    expect(literalPattern(word)).toBe(pattern);
    expect(new RegExp(pattern).test(word)).toBe(true);
  });
});
