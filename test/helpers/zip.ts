import yauzl from 'yauzl';

export interface ZipEntryInfo {
  name: string;
  mode: number;
  kind: 'file' | 'dir' | 'symlink';
  /** Symlink target, or file content for small files (< 1 MiB). */
  target?: string;
  data?: Buffer;
  size: number;
  dosTime: number;
  dosDate: number;
}

/** Every entry of a zip with its unix mode, read with yauzl. */
export function readZip(file: string): Promise<ZipEntryInfo[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out: ZipEntryInfo[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (e: yauzl.Entry) => {
        const mode = (e.externalFileAttributes >>> 16) & 0xffff;
        const type = mode & 0o170000;
        const kind = type === 0o120000 ? 'symlink' : type === 0o040000 || e.fileName.endsWith('/') ? 'dir' : 'file';
        const base = { name: e.fileName, mode: mode & 0o7777, kind, size: e.uncompressedSize, dosTime: e.lastModFileTime, dosDate: e.lastModFileDate } as ZipEntryInfo;
        if (kind === 'dir' || e.uncompressedSize > 1024 * 1024) {
          out.push(base);
          zip.readEntry();
          return;
        }
        zip.openReadStream(e, (err2, stream) => {
          if (err2 || !stream) return reject(err2);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            const data = Buffer.concat(chunks);
            out.push(kind === 'symlink' ? { ...base, target: data.toString('utf8') } : { ...base, data });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
