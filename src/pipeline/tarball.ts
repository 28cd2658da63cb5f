import tar from 'tar-stream';

/** A tar archive of small generated files (container configuration), built in memory. */
export async function tarOf(files: Map<string, string | Buffer>, mode = 0o644): Promise<Buffer> {
  const pack = tar.pack();
  for (const [p, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    pack.entry({ name: p.replace(/^\/+/, ''), mode, mtime: new Date(0) }, typeof content === 'string' ? Buffer.from(content) : content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
