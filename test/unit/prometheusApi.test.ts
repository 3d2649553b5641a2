// The Prometheus client's pure parts, and what it sends through an authenticating proxy in front of
// Prometheus (a recording one on loopback). Real Prometheus answers are tested in
// test/integration/prometheus.test.ts.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { queryPrometheus, redactedUrl, sampleValue } from '../../src/monitor/prometheusApi';
import { describeError } from '../../src/shared/errors';

test('sample values: numbers, NaN and the infinities as Prometheus writes them', () => {
  assert.equal(sampleValue('1.5'), 1.5);
  assert.equal(sampleValue('1e-3'), 0.001);
  assert.ok(Number.isNaN(sampleValue('NaN')));
  assert.equal(sampleValue('+Inf'), Infinity);
  assert.equal(sampleValue('-Inf'), -Infinity);
  assert.throws(() => sampleValue('many'), /not a sample value/);
  assert.throws(() => sampleValue(''), /not a sample value/);
});

test('credentials in a URL never reach a message', () => {
  assert.equal(redactedUrl('https://ana:pw@prom.example.com/prometheus/'), 'https://***@prom.example.com/prometheus');
  assert.equal(redactedUrl('not a url://ana:pw@x'), 'not a url://***@x');
});

let seen: { url: string; headers: IncomingHttpHeaders }[] = [];
let reply: { status: number; body: string } = { status: 200, body: '' };
let proxy: ReturnType<typeof createServer>;
let base = '';
before(async () => {
  proxy = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/prometheus`;
});
after(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

test('a bearer token and the path prefix go with the query; the time is in seconds', async () => {
  seen = [];
  reply = {
    status: 200,
    body: JSON.stringify({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { version: 'v1' }, value: [1700000000.5, '3'] }] },
      warnings: ['partial'],
    }),
  };
  const result = await queryPrometheus({ url: base, token: 'tok-123' }, 'sum by (version) (x)', {
    time: new Date(1_700_000_000_500),
  });
  assert.deepEqual(result, {
    resultType: 'vector',
    samples: [{ metric: { version: 'v1' }, time: 1700000000.5, value: 3 }],
    warnings: ['partial'],
  });
  const request = new URL(seen[0]!.url, 'http://x');
  assert.equal(request.pathname, '/prometheus/api/v1/query');
  assert.equal(request.searchParams.get('query'), 'sum by (version) (x)');
  assert.equal(request.searchParams.get('time'), '1700000000.500');
  assert.equal(seen[0]!.headers.authorization, 'Bearer tok-123');
});

test('answers that are not query results are MlopsErrors naming the endpoint', async () => {
  const fails = async (status: number, body: string) => {
    reply = { status, body };
    try {
      await queryPrometheus({ url: base, token: 'tok-123' }, 'up');
    } catch (error) {
      const message = describeError(error);
      assert.ok(!message.includes('tok-123'));
      return message;
    }
    return assert.fail('it should have failed');
  };
  assert.match(
    await fails(200, '<html>Grafana</html>'),
    new RegExp(`^${base}/api/v1/query did not answer like the Prometheus HTTP API: <html>Grafana</html>`),
  );
  assert.match(
    await fails(
      503,
      JSON.stringify({ status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }),
    ),
    /answered HTTP 503 \(timeout\): query timed out.*coarser step/,
  );
  assert.match(
    await fails(403, JSON.stringify({ status: 'error', errorType: 'forbidden', error: 'no' })),
    /refused the credentials \(HTTP 403: no\)\. Check the token/,
  );
  assert.match(
    await fails(
      200,
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [1, 'lots'] }] },
      }),
    ),
    /answered data that is not a query result: result\.0\.value\.1: "lots" is not a sample value/,
  );
  assert.match(
    await fails(200, JSON.stringify({ status: 'success', data: { resultType: 'histogram', result: [] } })),
    /resultType "histogram" is none of/,
  );
});
