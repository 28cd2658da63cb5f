import { describe, expect, it } from 'vitest';
import { parseAlternatives } from '../../src/relocate/alternatives.js';

describe('alternatives log', () => {
  it('parses --install calls with slaves, ignoring other options and calls', () => {
    const log = [
      '--install /usr/bin/convert convert /usr/bin/convert-im6.q16 10000 --slave /usr/share/man/man1/convert.1.gz convert.1.gz /usr/share/man/man1/convert-im6.q16.1.gz',
      '--quiet --install /usr/bin/pager pager /bin/less 77',
      '--remove-all convert',
      '--install broken',
    ].join('\n');
    expect(parseAlternatives(log)).toEqual([
      { name: 'convert', link: '/usr/bin/convert', path: '/usr/bin/convert-im6.q16', priority: 10000 },
      { name: 'convert.1.gz', link: '/usr/share/man/man1/convert.1.gz', path: '/usr/share/man/man1/convert-im6.q16.1.gz', priority: 10000 },
      { name: 'pager', link: '/usr/bin/pager', path: '/bin/less', priority: 77 },
    ]);
  });
});
