import { crc32 } from 'node:zlib';

/**
 * Writes a zip exactly as described, names included: what a careful archiver would never write
 * (`../x`, `/etc/x`, symlinks out of the tree) is what tests of a zip reader need. Entries are
 * stored (no compression) and made on unix (version made by 3.0), so modes and symlinks count.
 */
export interface CraftedEntry {
  name: string;
  kind?: 'file' | 'dir' | 'symlink';
  /** File content or symlink target. */
  data?: string | Buffer;
  mode?: number;
  /**
   * Raw-deflate content instead of `data` (method 8), with the size and CRC-32 of what it inflates
   * to: how a zip bomb is written without holding the inflated bytes.
   */
  deflated?: { data: Buffer; size: number; crc32: number };
  /** The name's bytes as stored, instead of `name` in UTF-8. */
  rawName?: Buffer;
  /** Leave the UTF-8 flag (bit 11) unset, as Info-ZIP's zip does. */
  noUtf8Flag?: boolean;
  /** Extra fields, in both headers: each an id and its data. */
  extra?: Array<{ id: number; data: Buffer }>;
}

/** The Info-ZIP Unicode Path extra field (0x7075): the UTF-8 name, tied to the stored one by its CRC-32. */
export function unicodePathField(stored: Buffer, utf8: string): { id: number; data: Buffer } {
  const head = Buffer.alloc(5);
  head.writeUInt8(1, 0);
  head.writeUInt32LE(crc32(stored), 1);
  return { id: 0x7075, data: Buffer.concat([head, Buffer.from(utf8, 'utf8')]) };
}

export function craftZip(entries: CraftedEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const kind = e.kind ?? (e.name.endsWith('/') ? 'dir' : 'file');
    const data = e.deflated?.data ?? (Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? ''));
    const method = e.deflated ? 8 : 0;
    const size = e.deflated?.size ?? data.length;
    const type = kind === 'dir' ? 0o040000 : kind === 'symlink' ? 0o120000 : 0o100000;
    const mode = type | (e.mode ?? (kind === 'dir' ? 0o755 : kind === 'symlink' ? 0o777 : 0o644));
    const name = e.rawName ?? Buffer.from(e.name, 'utf8');
    const flags = e.noUtf8Flag ? 0 : 0x800;
    const extra = Buffer.concat(
      (e.extra ?? []).map((f) => {
        const h = Buffer.alloc(4);
        h.writeUInt16LE(f.id, 0);
        h.writeUInt16LE(f.data.length, 2);
        return Buffer.concat([h, f.data]);
      }),
    );
    const crc = e.deflated?.crc32 ?? crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4); // version needed
    local.writeUInt16LE(flags, 6); // utf-8 names, unless told otherwise
    local.writeUInt16LE(method, 8); // stored or deflated
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 30, 4); // made by unix, 3.0
    central.writeUInt16LE(10, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, extra, data);
    centrals.push(central, name, extra);
    offset += local.length + name.length + extra.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
