// Pushing a dashboard to Grafana's POST /api/dashboards/db, against a recording stand-in on
// loopback: the request Grafana gets, and what each refusal tells the user, never with the token.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { grafanaDashboard } from '../../src/monitor/export/grafanaDashboard';
import { pushDashboard } from '../../src/monitor/export/grafanaPush';
import { describeError } from '../../src/shared/errors';
import { startFakeGrafana, type FakeGrafana } from '../support/fakeGrafana';

const TOKEN = 'glsa_secretServiceAccountToken_1234';
let grafana: FakeGrafana;

before(async () => {
  grafana = await startFakeGrafana('/grafana');
});
after(() => grafana.close());

const dashboard = { ...grafanaDashboard({ name: 'churn' }) };

async function failure(options: Partial<Parameters<typeof pushDashboard>[0]> = {}): Promise<string> {
  try {
    await pushDashboard({ grafanaUrl: grafana.url, token: TOKEN, dashboard, ...options });
  } catch (error) {
    const message = describeError(error);
    assert.ok(!message.includes(TOKEN), `the token is not in: ${message}`);
    return message;
  }
  assert.fail('the push should have failed');
}

test('the dashboard is POSTed with overwrite, the folder, a message and the bearer token; the answer gives its address', async () => {
  grafana.answer({
    status: 200,
    body: {
      id: 7,
      uid: 'mlops-churn',
      url: '/grafana/d/mlops-churn/mlops-c2b7-churn',
      status: 'success',
      version: 3,
      slug: 'mlops-churn',
    },
  });
  const result = await pushDashboard({
    grafanaUrl: `${grafana.url}/`,
    token: TOKEN,
    dashboard,
    folderUid: 'ml-team',
    message: 'from the test',
  });
  assert.deepEqual(result, {
    url: `${new URL(grafana.url).origin}/grafana/d/mlops-churn/mlops-c2b7-churn`,
    uid: 'mlops-churn',
    version: 3,
  });
  const request = grafana.requests.at(-1)!;
  assert.equal(request.method, 'POST');
  assert.equal(request.url, '/grafana/api/dashboards/db', 'under the sub path Grafana is served at');
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
  assert.match(request.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(request.body) as {
    dashboard: Record<string, unknown>;
    overwrite: boolean;
    folderUid: string;
    message: string;
  };
  assert.equal(body.overwrite, true);
  assert.equal(body.folderUid, 'ml-team');
  assert.equal(body.message, 'from the test');
  assert.equal(body.dashboard.id, null, 'found by uid, created when missing');
  assert.equal(body.dashboard.uid, 'mlops-churn');
  assert.equal(body.dashboard.title, 'MLOps · churn');
  assert.deepEqual(body.dashboard.panels, dashboard.panels);
});

test('no folder: none is sent', async () => {
  grafana.answer({ status: 200, body: { uid: 'mlops-churn', url: '/d/mlops-churn/x', version: 1 } });
  await pushDashboard({ grafanaUrl: grafana.url, token: TOKEN, dashboard });
  assert.equal('folderUid' in JSON.parse(grafana.requests.at(-1)!.body), false);
});

test('401 and 403 are about the token; 404 about the URL or folder; 412 about a clash', async () => {
  grafana.answer({ status: 401, body: { message: 'invalid API key' } });
  const unauthorized = await failure();
  assert.match(
    unauthorized,
    new RegExp(`Grafana at ${grafana.url} did not accept the token \\(HTTP 401: invalid API key\\)`),
  );
  assert.match(unauthorized, /Set Grafana Token.*GRAFANA_TOKEN/);

  grafana.answer({ status: 403, body: { message: 'Access denied to save dashboard' } });
  assert.match(
    await failure(),
    /refused to save MLOps · churn with this token \(HTTP 403: Access denied to save dashboard\).*Editor role/,
  );

  grafana.answer({ status: 404, body: { message: 'folder not found' } });
  assert.match(
    await failure({ folderUid: 'nope' }),
    /no Grafana dashboards API \(HTTP 404 on POST \/api\/dashboards\/db: folder not found\).*folder nope exists/,
  );
  grafana.answer({ status: 404, body: '<html>Not found</html>' });
  assert.match(await failure(), /HTTP 404.*the URL is the Grafana root/);

  grafana.answer({
    status: 412,
    body: { message: 'The dashboard has been changed by someone else', status: 'version-mismatch' },
  });
  assert.match(
    await failure(),
    /Grafana refused to save MLOps · churn at .* \(HTTP 412, version-mismatch: The dashboard has been changed by someone else\)\. Another dashboard has this uid or title/,
  );
  grafana.answer({
    status: 412,
    body: { message: 'A dashboard with the same name in the folder already exists', status: 'name-exists' },
  });
  assert.match(await failure(), /name-exists.*same title: rename or move it/);
});

test('a message echoing the token is masked; a redirect is reported, not followed with the token', async () => {
  grafana.answer({ status: 400, body: { message: `bad request for token ${TOKEN}` } });
  assert.match(await failure(), /answered HTTP 400 to POST \/api\/dashboards\/db: bad request for token \*\*\*/);
  const before = grafana.requests.length;
  grafana.answer({ status: 302, body: '', headers: { location: '/login' } });
  assert.match(await failure(), /redirected the request \(HTTP 302 to \/login\)/);
  assert.equal(grafana.requests.length, before + 1, 'the redirect was not followed');
  grafana.answer({ status: 200, body: '<html>a login page</html>' });
  assert.match(await failure(), /without a dashboard uid and url: is it Grafana\?/);
});

test('nothing listening, no token, or a bad URL: said plainly', async () => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => resolve(free));
    });
  });
  assert.match(
    await failure({ grafanaUrl: `http://127.0.0.1:${port}` }),
    new RegExp(`Grafana at http://127.0.0.1:${port} cannot be reached: ECONNREFUSED`),
  );
  assert.match(await failure({ token: '' }), /No Grafana token is set/);
  assert.match(await failure({ grafanaUrl: 'grafana:3000' }), /not an http\(s\) URL|not a Grafana URL/);
  assert.match(await failure({ grafanaUrl: 'http://admin:admin@127.0.0.1:3000' }), /must not hold credentials/);
});
