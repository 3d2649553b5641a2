// `mlops workflow --provider github|gitlab --notebook NB --name NAME ...`: prints a CI pipeline
// that builds the image, back-tests it against production, waits for the review gate and deploys.
import type { CliCommand, CliContext } from '../../shared/cliFramework';
import { UsageError } from '../../shared/cliFramework';
import { ciWorkflow, WORKFLOW_FILES, type CiProvider } from './ciWorkflow';

function text(context: CliContext, key: string): string | undefined {
  const value = context.values[key];
  return typeof value === 'string' && value ? value : undefined;
}

function required(context: CliContext, key: string, what: string): string {
  const value = text(context, key);
  if (!value) throw new UsageError(`--${key} ${what} is required`);
  return value;
}

function numberFlag(context: CliContext, key: string): number | undefined {
  const value = text(context, key);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new UsageError(`--${key} takes a number, not '${value}'`);
  return number;
}

export const workflowCommand: CliCommand = {
  name: 'workflow',
  summary:
    'Print a GitHub Actions or GitLab CI pipeline that builds, back-tests, waits for the review gate and deploys',
  usage:
    'workflow --provider github|gitlab --notebook NB|--mlflow-model URI --name DEPLOYMENT --data FILE|lake:TABLE --label COL [--target swarm|kubernetes] [--namespace N] [--context C] [--max-regression 0.01] [--review-timeout SECONDS] [--review-workspace DIR] [--image REPO] [--registry HOST[:PORT]] [--branch main] [--cli mlops] [--json]',
  options: {
    provider: { type: 'string' },
    notebook: { type: 'string' },
    'mlflow-model': { type: 'string' },
    name: { type: 'string' },
    data: { type: 'string' },
    label: { type: 'string' },
    target: { type: 'string' },
    namespace: { type: 'string' },
    context: { type: 'string' },
    'max-regression': { type: 'string' },
    'review-timeout': { type: 'string' },
    'review-workspace': { type: 'string' },
    image: { type: 'string' },
    registry: { type: 'string' },
    branch: { type: 'string' },
    cli: { type: 'string' },
  },
  async run(context) {
    const provider = required(context, 'provider', 'github|gitlab');
    if (provider !== 'github' && provider !== 'gitlab')
      throw new UsageError(`--provider is github or gitlab, not '${provider}'`);
    const target = text(context, 'target') ?? 'swarm';
    if (target !== 'swarm' && target !== 'kubernetes')
      throw new UsageError(`--target is swarm or kubernetes, not '${target}'`);
    const optional = (key: string, option: string) => (text(context, key) ? { [option]: text(context, key) } : {});
    const maxRegression = numberFlag(context, 'max-regression');
    const reviewTimeoutSeconds = numberFlag(context, 'review-timeout');
    const yaml = ciWorkflow({
      provider: provider as CiProvider,
      deployment: required(context, 'name', 'DEPLOYMENT'),
      target,
      dataset: required(context, 'data', 'FILE|lake:TABLE'),
      label: required(context, 'label', 'COL'),
      ...optional('notebook', 'notebook'),
      ...optional('mlflow-model', 'mlflowModel'),
      ...optional('namespace', 'namespace'),
      ...optional('context', 'context'),
      ...optional('review-workspace', 'reviewWorkspace'),
      ...optional('image', 'image'),
      ...optional('registry', 'registry'),
      ...optional('branch', 'branch'),
      ...optional('cli', 'cli'),
      ...(maxRegression !== undefined ? { maxRegression } : {}),
      ...(reviewTimeoutSeconds !== undefined ? { reviewTimeoutSeconds } : {}),
    });
    context.io.stdout(
      context.json ? `${JSON.stringify({ provider, file: WORKFLOW_FILES[provider], yaml }, null, 2)}\n` : yaml,
    );
  },
};
