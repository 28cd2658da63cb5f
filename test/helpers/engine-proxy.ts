import net from 'node:net';
import path from 'node:path';
import { tempDir } from './tmp.js';

/**
 * The Docker engine behind a socket of the test's own, which the test can take away as a dying
 * engine would: every connection cut and the socket gone. The real engine, shared with other
 * runs, is never touched. Use `url` as DOCKER_HOST.
 */
export async function engineProxy(engineSocket = '/var/run/docker.sock'): Promise<{ url: string; cut: () => Promise<void> }> {
  const socket = path.join(tempDir('yumda-engine-'), 'docker.sock');
  const conns = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const engine = net.connect(engineSocket);
    conns.add(client).add(engine);
    client.pipe(engine).pipe(client);
    const end = () => {
      client.destroy();
      engine.destroy();
    };
    for (const s of [client, engine]) s.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    url: `unix://${socket}`,
    cut: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of conns) c.destroy();
      await closed;
    },
  };
}
