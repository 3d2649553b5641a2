// "Generate CI Workflow" on a deployment: asks for the provider and the gates' values, then writes
// .github/workflows/mlops-release.yml or .gitlab-ci.yml (asking before replacing one).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { DeploymentsService } from '../../deploy/deployments/deploymentsService';
import type { TargetConfig } from '../../deploy/deployments/targetConfig';
import { guardedCommand } from '../../host/guardedCommand';
import { workspaceRoot } from '../../host/settings';
import { MlopsError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { CiProvider } from './ciWorkflow';

export function registerWorkflowCommands(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel & Logger,
  deployments: DeploymentsService,
): void {
  context.subscriptions.push(
    guardedCommand('mlops.generateCiWorkflow', log, async (arg?: unknown) => {
      const workspace = workspaceRoot();
      if (!workspace) throw new MlopsError('The CI workflow is written into the workspace: open a folder first.');
      const resolved = await deployments.resolveDeployment(arg, 'Release which deployment from CI?');
      if (resolved) await generateCiWorkflow(workspace, resolved.config, resolved.name, log);
    }),
  );
}

async function ask(
  prompt: string,
  value: string,
  validate?: (text: string) => string | undefined,
): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title: 'Generate CI Workflow',
    prompt,
    value,
    ignoreFocusOut: true,
    ...(validate ? { validateInput: validate } : {}),
  });
}

/** A notebook of the workspace, or an MLflow model URI typed in. */
async function pickSource(): Promise<{ notebook: string } | { mlflowModel: string } | undefined> {
  const notebooks = await vscode.workspace.findFiles(
    '**/*.ipynb',
    '**/{node_modules,.venv,venv,.mlops,.ipynb_checkpoints}/**',
    200,
  );
  const MODEL = '$(database) An MLflow model…';
  const items = [
    ...notebooks.map((uri) => ({
      label: `$(notebook) ${vscode.workspace.asRelativePath(uri, false)}`,
      notebook: vscode.workspace.asRelativePath(uri, false),
    })),
    { label: MODEL, notebook: '' },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Generate CI Workflow',
    placeHolder: 'What does the pipeline build the image from?',
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  if (picked.notebook) return { notebook: picked.notebook };
  const uri = await ask('The MLflow model URI', 'models:/', (text) =>
    /^(runs|models):\/.+/.test(text) ? undefined : 'A models:/NAME/VERSION or runs:/RUN_ID/PATH URI',
  );
  return uri ? { mlflowModel: uri } : undefined;
}

async function generateCiWorkflow(
  workspace: string,
  config: TargetConfig,
  deployment: string,
  log: Logger,
): Promise<void> {
  const providers: { label: string; provider: CiProvider }[] = [
    { label: '$(github) GitHub Actions', provider: 'github' },
    { label: '$(source-control) GitLab CI', provider: 'gitlab' },
  ];
  const provider = (
    await vscode.window.showQuickPick(providers, {
      title: 'Generate CI Workflow',
      placeHolder: `Which CI runs the release of ${deployment}?`,
      ignoreFocusOut: true,
    })
  )?.provider;
  if (!provider) return;
  const source = await pickSource();
  if (!source) return;
  const dataset = await ask(
    'The back-test data: a dataset file of the repository, or lake:TABLE',
    'lake:requests',
    (text) => (text.trim() ? undefined : 'Give a file or lake:TABLE'),
  );
  if (dataset === undefined) return;
  const label = await ask('The label column of that data', 'label', (text) =>
    text.trim() ? undefined : 'Give the column with the true answers',
  );
  if (label === undefined) return;
  const number = (min: number, max: number, whole: boolean) => (text: string) => {
    const value = Number(text);
    return Number.isFinite(value) && value >= min && value <= max && (!whole || Number.isInteger(value))
      ? undefined
      : `A ${whole ? 'whole number' : 'number'} from ${min} to ${max}`;
  };
  const maxRegression = await ask(
    'How much worse than production the candidate may be in the back-test (0.01 = 1 point)',
    '0.01',
    number(0, 1, false),
  );
  if (maxRegression === undefined) return;
  const timeout = await ask(
    'How long the pipeline waits for the review gate, in seconds',
    '3600',
    number(0, 30 * 86400, true),
  );
  if (timeout === undefined) return;

  const { ciWorkflow, WORKFLOW_FILES } = await import('./ciWorkflow');
  const yaml = ciWorkflow({
    provider,
    ...source,
    deployment,
    target: config.kind,
    ...(config.kubernetes?.namespace ? { namespace: config.kubernetes.namespace } : {}),
    ...(config.kubernetes?.context ? { context: config.kubernetes.context } : {}),
    dataset: dataset.trim(),
    label: label.trim(),
    maxRegression: Number(maxRegression),
    reviewTimeoutSeconds: Number(timeout),
  });
  const file = join(workspace, WORKFLOW_FILES[provider]);
  if (existsSync(file)) {
    const answer = await vscode.window.showWarningMessage(
      `${WORKFLOW_FILES[provider]} already exists. Replace it?`,
      { modal: true },
      'Replace',
    );
    if (answer !== 'Replace') return;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, yaml);
  log.info(`workflow: wrote ${file}`);
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}
