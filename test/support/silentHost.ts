// A host that accepts connections and never answers, as a stuck daemon or a firewall that drops
// packets after the handshake looks to a client; and a kubeconfig whose server is such a host.
import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';

export interface SilentHost {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

export async function startSilentHost(): Promise<SilentHost> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    accepted: () => count,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes a kubeconfig of one context, "silent", whose API server is https://127.0.0.1:PORT. */
export function writeSilentKubeconfig(file: string, port: number): void {
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: silent',
      `  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}`,
      'users:',
      '- name: admin',
      '  user: {token: not-a-secret}',
      'contexts:',
      '- name: silent',
      '  context: {cluster: silent, user: admin, namespace: ml}',
      'current-context: silent',
      '',
    ].join('\n'),
  );
}
