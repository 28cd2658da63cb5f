import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * Serves a directory over HTTP on the loopback interface, as a package repository is served. Build
 * containers reach it through host networking. Returns the base URL, the paths requested (relative
 * to it) and a function to stop it.
 *
 * The URL carries a random path segment: yumda keeps repository metadata in Docker volumes keyed by
 * the repository's URL and reuses it for an hour, and the engine is shared by every test run on
 * the machine. A loopback port comes round again, and a repository the tests rebuild has the same
 * NEVRAs with other bytes; a URL of its own per server keeps one run from reading another's
 * metadata. `hold` may delay the answer to a path until a test has seen what it waits for.
 */
export async function serveDirectory(
  root: string,
  opts: { hold?: (rel: string) => Promise<void> | undefined } = {},
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const base = `/${randomBytes(6).toString('hex')}`;
  const requests: string[] = [];
  const server = http.createServer(async (req, res) => {
    const full = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (full !== base && !full.startsWith(`${base}/`)) {
      res.writeHead(404).end();
      return;
    }
    const rel = full.slice(base.length) || '/';
    requests.push(rel);
    // a test can hold a response back until something else has happened
    await opts.hold?.(rel);
    const file = path.join(root, path.normalize(rel).replace(/^(\.\.[/\\])+/, ''));
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Length': size, 'Content-Type': 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${base}`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
