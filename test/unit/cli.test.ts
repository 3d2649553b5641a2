import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, type CliCommand } from '../../src/shared/cliFramework';
import { MlopsError } from '../../src/shared/errors';

function capture() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: { stdout: (text: string) => (out.stdout += text), stderr: (text: string) => (out.stderr += text) },
  };
}

const echo: CliCommand = {
  name: 'echo',
  summary: 'Print its words.',
  usage: 'echo WORDS... [--upper]',
  options: { upper: { type: 'boolean' } },
  async run({ positionals, values, json, io }) {
    const text = positionals.join(' ');
    io.stdout(json ? `${JSON.stringify({ text })}\n` : `${values.upper ? text.toUpperCase() : text}\n`);
  },
};
const failing: CliCommand = {
  name: 'fail',
  summary: 'Fail with a user-facing error.',
  usage: 'fail',
  options: {},
  run: async () => {
    throw new MlopsError('mlruns/0/meta.yaml is not valid YAML.', 'Fix or remove the file.');
  },
};
const program = { name: 'mlops', version: '9.8.7', commands: [echo, failing] };

test('--version prints the version, also as JSON', async () => {
  const plain = capture();
  assert.equal(await runCli(program, ['--version'], plain.io), 0);
  assert.equal(plain.out.stdout, '9.8.7\n');
  const json = capture();
  assert.equal(await runCli(program, ['--version', '--json'], json.io), 0);
  assert.deepEqual(JSON.parse(json.out.stdout), { version: '9.8.7' });
});

test('--help lists every command; help of a command shows its usage', async () => {
  const all = capture();
  assert.equal(await runCli(program, ['--help'], all.io), 0);
  assert.match(all.out.stdout, /echo\s+Print its words\./);
  assert.match(all.out.stdout, /fail\s+Fail with/);
  const one = capture();
  assert.equal(await runCli(program, ['echo', '--help'], one.io), 0);
  assert.match(one.out.stdout, /Usage: mlops echo WORDS\.\.\. \[--upper\]/);
});

test('a command runs with its options and --json', async () => {
  const plain = capture();
  assert.equal(await runCli(program, ['echo', 'hello', 'world', '--upper'], plain.io), 0);
  assert.equal(plain.out.stdout, 'HELLO WORLD\n');
  const json = capture();
  await runCli(program, ['echo', 'hi', '--json'], json.io);
  assert.deepEqual(JSON.parse(json.out.stdout), { text: 'hi' });
});

test("a command's arguments may repeat its name", async () => {
  const out = capture();
  assert.equal(await runCli(program, ['echo', 'echo', 'twice', 'echo'], out.io), 0);
  assert.equal(out.out.stdout, 'echo twice echo\n');
});

test('usage errors exit with 2 and say what was wrong', async () => {
  const none = capture();
  assert.equal(await runCli(program, [], none.io), 2);
  const unknown = capture();
  assert.equal(await runCli(program, ['deploi'], unknown.io), 2);
  assert.match(unknown.out.stderr, /unknown command 'deploi'/);
  const option = capture();
  assert.equal(await runCli(program, ['echo', '--loud'], option.io), 2);
  assert.match(option.out.stderr, /--loud/);
  assert.equal(option.out.stdout, '');
});

test('failures exit with 1 on stderr, with the remedy, as JSON with --json', async () => {
  const plain = capture();
  assert.equal(await runCli(program, ['fail'], plain.io), 1);
  assert.equal(plain.out.stdout, '');
  assert.match(plain.out.stderr, /mlruns\/0\/meta\.yaml is not valid YAML\.\nFix or remove the file\./);
  const json = capture();
  assert.equal(await runCli(program, ['fail', '--json'], json.io), 1);
  assert.deepEqual(JSON.parse(json.out.stderr), {
    error: 'mlruns/0/meta.yaml is not valid YAML.',
    remedy: 'Fix or remove the file.',
  });
});
