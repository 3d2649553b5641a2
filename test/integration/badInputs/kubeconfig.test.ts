// The bad-input catalogue: broken kubeconfigs, through `mlops status --target kubernetes`. Each
// is refused before any request, naming the file and the entry at fault, and left as it was.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { expectRefused } from '../../support/badInput';

let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-bad-kubeconfig-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface Entries {
  cluster?: string;
  user?: string;
  context?: string;
  currentContext?: string;
}

/** A kubeconfig with one cluster `c`, one user `u` and one context `ctx`, whose entries the case replaces. */
function kubeconfig(name: string, entries: Entries = {}): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: c',
      '  cluster:',
      entries.cluster ?? '    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true',
      'users:',
      '- name: u',
      '  user:',
      entries.user ?? '    token: not-a-real-token',
      'contexts:',
      '- name: ctx',
      '  context:',
      entries.context ?? '    cluster: c\n    user: u',
      `current-context: ${entries.currentContext ?? 'ctx'}`,
      '',
    ].join('\n'),
  );
  return path;
}

const status = (file: string, ...extra: string[]) => [
  'status',
  '--target',
  'kubernetes',
  '--kubeconfig',
  file,
  '--name',
  'model',
  ...extra,
];

test('a kubeconfig with invalid YAML (an unclosed list): named with the line and column', async () => {
  const file = join(dir, 'invalid.yaml');
  writeFileSync(file, 'apiVersion: v1\nclusters: [\n  - name: a\n');
  await expectRefused({
    args: status(file),
    message: [/The kubeconfig .*invalid\.yaml cannot be read: .*\(3:3\)/, /kubectl config view/],
    unchanged: [file],
  });
});

test('a kubeconfig that does not exist: the path looked at is named', async () => {
  const file = join(dir, 'absent.yaml');
  const result = await expectRefused({
    args: status(file),
    message: [/No kubeconfig was found \(looked for .*absent\.yaml\)/, /Set mlops\.kubeconfig or KUBECONFIG/],
    unchanged: [file],
  });
  assert.equal(result.stdout, '', 'no status is printed for a cluster that was never reached');
});

test('KUBECONFIG naming two files that do not exist: both are named', async () => {
  const [first, second] = [join(dir, 'gone-1.yaml'), join(dir, 'gone-2.yaml')];
  await expectRefused({
    args: ['status', '--target', 'kubernetes', '--name', 'model'],
    env: { KUBECONFIG: `${first}:${second}` },
    message: /No kubeconfig was found \(looked for .*gone-1\.yaml, .*gone-2\.yaml\)/,
    unchanged: [first, second],
  });
});

test('a context that the kubeconfig does not have (--context nope): the contexts it has are listed', async () => {
  const file = kubeconfig('contexts.yaml');
  await expectRefused({
    args: status(file, '--context', 'nope'),
    message: [/The kubeconfig .*contexts\.yaml has no context "nope"/, /Its contexts are: ctx\./],
    unchanged: [file],
  });
});

test('a current-context that names no context: named, with the contexts there are', async () => {
  const file = kubeconfig('current.yaml', { currentContext: 'deleted-ctx' });
  await expectRefused({
    args: status(file),
    message: [/current\.yaml has no context "deleted-ctx"/, /Its contexts are: ctx\./],
    unchanged: [file],
  });
});

test('a cluster without a server: the field is named', async () => {
  const file = kubeconfig('no-server.yaml', { cluster: '    insecure-skip-tls-verify: true' });
  await expectRefused({
    args: status(file),
    message: /The kubeconfig .*no-server\.yaml cannot be read: clusters\[0\]\.cluster\.server is missing/,
    unchanged: [file],
  });
});

test('a context naming a cluster the kubeconfig does not define', async () => {
  const file = kubeconfig('no-cluster.yaml', { context: '    cluster: elsewhere\n    user: u' });
  await expectRefused({
    args: status(file),
    message: /The context "ctx" names the cluster "elsewhere", which .*no-cluster\.yaml does not define/,
    unchanged: [file],
  });
});

test('a context naming a user the kubeconfig does not define', async () => {
  const file = kubeconfig('no-user.yaml', { context: '    cluster: c\n    user: nobody' });
  await expectRefused({
    args: status(file),
    message: /The context "ctx" names the user "nobody", which .*no-user\.yaml does not define/,
    unchanged: [file],
  });
});

test('a user whose client-certificate file is missing: the field and the file are named', async () => {
  const cert = join(dir, 'missing-client.crt');
  const file = kubeconfig('no-cert.yaml', {
    user: `    client-certificate: ${cert}\n    client-key: ${join(dir, 'missing-client.key')}`,
  });
  await expectRefused({
    args: status(file),
    message: [
      /The client-certificate of the user "u" in .*no-cert\.yaml is .*missing-client\.crt, which does not exist/,
      /Correct the path in the kubeconfig/,
    ],
    unchanged: [file, cert],
  });
});

test('a cluster whose certificate-authority file is missing (a path relative to the kubeconfig): the resolved file is named', async () => {
  const file = kubeconfig('no-ca.yaml', {
    cluster: '    server: https://127.0.0.1:6443\n    certificate-authority: certs/ca.crt',
  });
  await expectRefused({
    args: status(file),
    message: new RegExp(
      `The certificate-authority of the cluster "c" in .*no-ca\\.yaml is ${join(dir, 'certs', 'ca.crt')}, which does not exist`,
    ),
    unchanged: [file],
  });
});
