// The generated CI pipelines against each format's official schema (SchemaStore's, as vendored by
// check-jsonschema from PyPI), and their commands against the CLI's own parser: a POSIX shell
// splits each command line and every flag must be one the command accepts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { ensureCheckJsonschema } from '../../scripts/lib/checkJsonschema.mjs';
import type { CliCommand } from '../../src/shared/cliFramework';
import { containerizeCommand } from '../../src/containerize/cli';
import { deployCommand } from '../../src/deploy/cli';
import { backtestCommand } from '../../src/release/backtest/cli';
import { reviewCommand } from '../../src/release/review/cli';
import { ciWorkflow, type WorkflowOptions } from '../../src/release/workflow/ciWorkflow';
import { MlopsError } from '../../src/shared/errors';
import { needService } from '../support/services';

const SCHEMAS = { github: 'vendor.github-workflows', gitlab: 'vendor.gitlab-ci' } as const;
const COMMANDS: Record<string, CliCommand> = Object.fromEntries(
  [containerizeCommand, backtestCommand, reviewCommand, deployCommand].map((c) => [c.name, c]),
);

const variants: Omit<WorkflowOptions, 'provider'>[] = [
  {
    notebook: 'notebooks/churn model.ipynb',
    deployment: 'churn',
    target: 'swarm',
    dataset: 'data/churn.csv',
    label: 'churned',
  },
  {
    mlflowModel: 'models:/churn/3',
    deployment: 'churn-k8s',
    target: 'kubernetes',
    namespace: 'ml',
    context: 'prod',
    dataset: 'lake:requests',
    label: "it's churned",
    maxRegression: 0.02,
    reviewTimeoutSeconds: 7200,
    reviewWorkspace: '/srv/mlops',
    image: 'registry.local:5000/churn',
    registry: 'registry.local:5000',
    branch: 'release/1.x',
    cli: 'node dist/cli.js',
  },
];

function validate(
  checkJsonschema: string,
  provider: 'github' | 'gitlab',
  text: string,
): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-workflow-'));
  try {
    const file = join(dir, provider === 'github' ? 'mlops-release.yml' : '.gitlab-ci.yml');
    writeFileSync(file, text);
    const result = spawnSync(checkJsonschema, ['--builtin-schema', SCHEMAS[provider], file], { encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('both pipelines pass their format schema, and a broken one does not', { timeout: 300_000 }, (t) => {
  const installed = ensureCheckJsonschema();
  if (!needService(t, installed.ok, installed.ok ? '' : installed.reason)) return;
  const tool = installed.ok ? installed.checkJsonschema : '';
  for (const provider of ['github', 'gitlab'] as const) {
    for (const options of variants) {
      const text = ciWorkflow({ provider, ...options });
      const result = validate(tool, provider, text);
      assert.equal(result.status, 0, `${provider} workflow for ${options.deployment}:\n${result.output}\n${text}`);
    }
  }
  // The check can fail: a GitHub job without runs-on, a GitLab job with a number for a script.
  const github = parse(ciWorkflow({ provider: 'github', ...variants[0] })) as {
    jobs: { release: Record<string, unknown> };
  };
  delete github.jobs.release['runs-on'];
  assert.notEqual(validate(tool, 'github', JSON.stringify(github)).status, 0);
  const gitlab = parse(ciWorkflow({ provider: 'gitlab', ...variants[0] })) as Record<string, Record<string, unknown>>;
  gitlab['mlops-review'].script = 5;
  assert.notEqual(validate(tool, 'gitlab', JSON.stringify(gitlab)).status, 0);
});

/** The argument lists a POSIX shell makes of the pipeline's command lines, with the commit variables set. */
function argvOf(lines: string[], cli: string): string[][] {
  return lines.map((line) => {
    assert.ok(line.startsWith(`${cli} `), line);
    const result = spawnSync('sh', ['-c', `printf '%s\\0' ${line.slice(cli.length + 1)}`], {
      encoding: 'utf8',
      env: { ...process.env, GITHUB_SHA: 'abc123', CI_COMMIT_SHORT_SHA: 'abc123' },
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split('\0').slice(0, -1);
  });
}

test('each step is a command line the mlops CLI accepts, with the values given', () => {
  for (const options of variants) {
    const cli = options.cli ?? 'mlops';
    const github = parse(ciWorkflow({ provider: 'github', ...options })) as {
      jobs: { release: { steps: { run?: string }[] } };
    };
    const gitlab = parse(ciWorkflow({ provider: 'gitlab', ...options })) as Record<string, { script?: string[] }>;
    const githubLines = github.jobs.release.steps.flatMap((s) => (s.run ? [s.run] : []));
    const gitlabLines = Object.values(gitlab).flatMap((job) => job.script ?? []);
    assert.deepEqual(argvOf(githubLines, cli), argvOf(gitlabLines, cli), 'both providers run the same commands');
    const commands = argvOf(githubLines, cli);
    assert.deepEqual(
      commands.map((argv) => argv[0]),
      ['containerize', 'backtest', 'review', 'deploy'],
    );
    const parsed = commands.map(([name, ...args]) =>
      parseArgs({ args, options: COMMANDS[name].options, strict: true, allowPositionals: true }),
    );
    const image = `${options.image ?? options.deployment}:abc123`;
    assert.deepEqual(parsed[0].positionals, [options.notebook ?? options.mlflowModel]);
    assert.equal(parsed[0].values.tag, image);
    assert.deepEqual(
      {
        candidate: parsed[1].values.candidate,
        data: parsed[1].values.data,
        label: parsed[1].values.label,
        baseline: parsed[1].values.baseline,
        max: parsed[1].values['max-regression'],
      },
      {
        candidate: image,
        data: options.dataset,
        label: options.label,
        baseline: options.deployment,
        max: String(options.maxRegression ?? 0.01),
      },
    );
    assert.deepEqual(parsed[2].positionals, ['status']);
    assert.equal(parsed[2].values.wait, String(options.reviewTimeoutSeconds ?? 3600));
    assert.equal(parsed[2].values.workspace, options.reviewWorkspace);
    assert.equal(parsed[3].values.image, image);
    assert.equal(parsed[3].values['change-cause'], 'CI release of abc123');
    for (const p of [parsed[1], parsed[2], parsed[3]]) {
      assert.equal(p.values.target, options.target);
      assert.equal(p.values.namespace, options.namespace);
    }
  }
});

test('bad options are refused with the field named', () => {
  const base = { provider: 'github' as const, ...variants[0] };
  const refused = (options: WorkflowOptions, pattern: RegExp) =>
    assert.throws(
      () => ciWorkflow(options),
      (error: unknown) => error instanceof MlopsError && pattern.test(error.message),
    );
  refused({ ...base, mlflowModel: 'models:/churn/1' }, /either a notebook or an MLflow model/);
  refused({ ...base, deployment: 'Churn Model' }, /deployment name "Churn Model"/);
  refused({ ...base, maxRegression: 5 }, /maximum regression .* not 5/);
  refused({ ...base, reviewTimeoutSeconds: 1.5 }, /review timeout/);
  refused({ ...base, branch: 'main"; rm' }, /The branch/);
  refused({ ...base, label: ' ' }, /label column/);
});
