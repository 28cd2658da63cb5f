import type Docker from 'dockerode';
import { onInterrupt } from '../util/cleanup.js';

/** Containers yumda created and has not removed yet are removed if the process is interrupted. */
const live = new Map<Docker.Container, () => void>();

export function trackContainer(c: Docker.Container): void {
  live.set(c, onInterrupt(() => c.remove({ force: true, v: true }).catch(() => undefined)));
}

export function untrackContainer(c: Docker.Container): void {
  live.get(c)?.();
  live.delete(c);
}
