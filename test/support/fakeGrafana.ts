// A stand-in for Grafana's POST /api/dashboards/db on loopback (Grafana has no Debian package, so
// it is the one service the tests fake): it records each request and answers what the test says.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeGrafana {
  url: string;
  requests: RecordedRequest[];
  /** The next answers, in order; the last one repeats. */
  answer(...answers: { status: number; body: unknown; headers?: Record<string, string> }[]): void;
  close(): Promise<void>;
}

export async function startFakeGrafana(path = ''): Promise<FakeGrafana> {
  const requests: RecordedRequest[] = [];
  let answers: { status: number; body: unknown; headers?: Record<string, string> }[] = [
    { status: 500, body: { message: 'no answer set' } },
  ];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const next = answers.length > 1 ? answers.shift()! : answers[0]!;
      const text = typeof next.body === 'string' ? next.body : JSON.stringify(next.body);
      res.writeHead(next.status, {
        'content-type': typeof next.body === 'string' ? 'text/html' : 'application/json',
        ...next.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    answer: (...next) => void (answers = next),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
