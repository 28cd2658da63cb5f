import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Small JSON documents by key, written atomically (temporary name, then rename). */
export class JsonStore<T> {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  get(key: string): { value: T; ageMs: number } | undefined {
    try {
      const f = this.file(key);
      const ageMs = Date.now() - statSync(f).mtimeMs;
      return { value: JSON.parse(readFileSync(f, 'utf8')) as T, ageMs };
    } catch {
      return undefined;
    }
  }

  put(key: string, value: T): void {
    mkdirSync(this.dir, { recursive: true });
    const dest = this.file(key);
    const tmp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, dest);
  }
}
