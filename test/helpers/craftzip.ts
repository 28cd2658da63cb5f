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
    const name = Buffer.from(e.name, 'utf8');
    const crc = e.deflated?.crc32 ?? crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4); // version needed
    local.writeUInt16LE(0x800, 6); // utf-8 names
    local.writeUInt16LE(method, 8); // stored or deflated
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 30, 4); // made by unix, 3.0
    central.writeUInt16LE(10, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
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
