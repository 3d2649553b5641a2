// A CI pipeline that runs the release gates with the `mlops` CLI: build the image, back-test it
// against the deployment in production (failing when it regresses), wait for the human review
// gate, then deploy. As a GitHub Actions workflow (one job: the image stays on its runner) or a
// GitLab CI file (one stage per gate; the jobs share the Docker Engine of DOCKER_HOST).
import { Document } from 'yaml';
import { MlopsError } from '../../shared/errors';

export type CiProvider = 'github' | 'gitlab';

export interface WorkflowOptions {
  provider: CiProvider;
  /** What to build: a notebook of the repository, or an MLflow model URI (models:/churn/3). */
  notebook?: string;
  mlflowModel?: string;
  deployment: string;
  target: 'swarm' | 'kubernetes';
  /** Kubernetes only. */
  namespace?: string;
  context?: string;
  /** The back-test data: a dataset file of the repository or `lake:TABLE`. */
  dataset: string;
  label: string;
  /** How much worse than production the candidate may be (0.01). */
  maxRegression?: number;
  /** How long to wait for the review gate (3600). */
  reviewTimeoutSeconds?: number;
  /** The workspace that holds the reviews (`.mlops/monitoring/`): the checkout by default. */
  reviewWorkspace?: string;
  /** The image repository, tagged with the commit (the deployment's name). */
  image?: string;
  /** Push the image there on deploy (`mlops deploy --registry`). */
  registry?: string;
  /** The branch whose pushes release (main). */
  branch?: string;
  /** How the runner calls the CLI (mlops). */
  cli?: string;
}

export const WORKFLOW_FILES: Record<CiProvider, string> = {
  github: '.github/workflows/mlops-release.yml',
  gitlab: '.gitlab-ci.yml',
};

/** A word for a POSIX shell: as it is when it is plain, else in single quotes. */
function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A word ending in the value of one of the CI's variables (the commit), which the shell expands. */
interface Expanded {
  text: string;
  variable: string;
}

const command = (words: (string | Expanded)[]) =>
  words
    .map((word) =>
      typeof word === 'string' ? shellWord(word) : `${word.text ? shellWord(word.text) : ''}"$${word.variable}"`,
    )
    .join(' ');

function check(
  options: WorkflowOptions,
): Required<Pick<WorkflowOptions, 'maxRegression' | 'reviewTimeoutSeconds' | 'branch' | 'cli' | 'image'>> {
  if (options.provider !== 'github' && options.provider !== 'gitlab')
    throw new MlopsError(`The CI provider is github or gitlab, not ${JSON.stringify(options.provider)}.`);
  if (!options.notebook === !options.mlflowModel)
    throw new MlopsError('A CI workflow builds either a notebook or an MLflow model: give exactly one.');
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(options.deployment))
    throw new MlopsError(
      `The deployment name ${JSON.stringify(options.deployment)} must be lower-case letters, digits and dashes.`,
    );
  if (options.target !== 'swarm' && options.target !== 'kubernetes')
    throw new MlopsError(`The target is swarm or kubernetes, not ${JSON.stringify(options.target)}.`);
  if (!options.dataset.trim())
    throw new MlopsError('The back-test needs a dataset: a file of the repository or lake:TABLE.');
  if (!options.label.trim()) throw new MlopsError('The back-test needs the label column of the dataset.');
  if (options.branch !== undefined && !/^[A-Za-z0-9._/-]+$/.test(options.branch))
    throw new MlopsError(`The branch ${JSON.stringify(options.branch)} must be letters, digits and . _ / -.`);
  if (options.image !== undefined && !/^[a-z0-9][a-z0-9._/:-]*$/.test(options.image))
    throw new MlopsError(
      `The image ${JSON.stringify(options.image)} must be a repository name: lower-case letters, digits and . _ / : -.`,
    );
  const maxRegression = options.maxRegression ?? 0.01;
  if (!(maxRegression >= 0 && maxRegression <= 1))
    throw new MlopsError(`The maximum regression is a share between 0 and 1 (0.01), not ${maxRegression}.`);
  const reviewTimeoutSeconds = options.reviewTimeoutSeconds ?? 3600;
  if (!Number.isInteger(reviewTimeoutSeconds) || reviewTimeoutSeconds < 0)
    throw new MlopsError(`The review timeout is a whole number of seconds, not ${reviewTimeoutSeconds}.`);
  return {
    maxRegression,
    reviewTimeoutSeconds,
    branch: options.branch ?? 'main',
    cli: options.cli ?? 'mlops',
    image: options.image ?? options.deployment,
  };
}

interface Steps {
  build: string;
  backtest: string;
  review: string;
  deploy: string;
}

function steps(options: WorkflowOptions, checked: ReturnType<typeof check>, revision: string): Steps {
  const image = { text: `${checked.image}:`, variable: revision };
  const cli = checked.cli.split(' ');
  const target = [
    '--target',
    options.target,
    ...(options.namespace ? ['--namespace', options.namespace] : []),
    ...(options.context ? ['--context', options.context] : []),
  ];
  return {
    build: command([...cli, 'containerize', (options.notebook ?? options.mlflowModel)!, '--tag', image]),
    backtest: command([
      ...cli,
      'backtest',
      '--candidate',
      image,
      '--data',
      options.dataset,
      '--label',
      options.label,
      '--baseline',
      options.deployment,
      ...target,
      '--max-regression',
      String(checked.maxRegression),
      '--out',
      'backtest-report.json',
    ]),
    review: command([
      ...cli,
      'review',
      'status',
      '--name',
      options.deployment,
      ...target,
      ...(options.reviewWorkspace ? ['--workspace', options.reviewWorkspace] : []),
      '--wait',
      String(checked.reviewTimeoutSeconds),
    ]),
    deploy: command([
      ...cli,
      'deploy',
      ...target,
      '--image',
      image,
      '--name',
      options.deployment,
      ...(options.registry ? ['--registry', options.registry] : []),
      '--change-cause',
      { text: 'CI release of ', variable: revision },
    ]),
  };
}

function github(options: WorkflowOptions, checked: ReturnType<typeof check>): object {
  const run = steps(options, checked, 'GITHUB_SHA');
  return {
    name: `Release ${options.deployment}`,
    on: { push: { branches: [checked.branch] }, workflow_dispatch: {} },
    concurrency: { group: `mlops-release-${options.deployment}`, 'cancel-in-progress': false },
    jobs: {
      release: {
        'runs-on': 'ubuntu-latest',
        // The review wait, plus time for the build, the back-test and the rollout.
        'timeout-minutes': Math.ceil(checked.reviewTimeoutSeconds / 60) + 60,
        steps: [
          { uses: 'actions/checkout@v4' },
          { name: 'Build the image', run: run.build },
          { name: 'Back-test it against production', run: run.backtest },
          {
            name: 'Keep the back-test report',
            if: 'always()',
            uses: 'actions/upload-artifact@v4',
            with: { name: 'backtest-report', path: 'backtest-report.json', 'if-no-files-found': 'ignore' },
          },
          { name: 'Wait for the review gate', run: run.review },
          { name: 'Deploy', run: run.deploy },
        ],
      },
    },
  };
}

function gitlab(options: WorkflowOptions, checked: ReturnType<typeof check>): object {
  const run = steps(options, checked, 'CI_COMMIT_SHORT_SHA');
  const rules = [{ if: `$CI_COMMIT_BRANCH == "${checked.branch}"` }, { if: '$CI_PIPELINE_SOURCE == "web"' }];
  return {
    stages: ['build', 'backtest', 'review', 'deploy'],
    'mlops-build': { stage: 'build', rules, script: [run.build] },
    'mlops-backtest': {
      stage: 'backtest',
      rules,
      script: [run.backtest],
      artifacts: { when: 'always', paths: ['backtest-report.json'] },
    },
    'mlops-review': {
      stage: 'review',
      rules,
      timeout: `${Math.ceil(checked.reviewTimeoutSeconds / 60) + 10} minutes`,
      script: [run.review],
    },
    'mlops-deploy': { stage: 'deploy', rules, resource_group: `mlops-${options.deployment}`, script: [run.deploy] },
  };
}

/** The workflow's YAML text. */
export function ciWorkflow(options: WorkflowOptions): string {
  const checked = check(options);
  // Each job spells its rules out rather than pointing at the first job's with a YAML alias.
  const document = new Document(options.provider === 'github' ? github(options, checked) : gitlab(options, checked), {
    aliasDuplicateObjects: false,
  });
  document.commentBefore = [
    ` Generated by MLOps (mlops workflow --provider ${options.provider}): build ${options.notebook ?? options.mlflowModel}, back-test it against`,
    ` ${options.deployment} (at most ${checked.maxRegression} worse), wait up to ${checked.reviewTimeoutSeconds} s for the review gate, then deploy.`,
    ` The runner needs the \`${checked.cli}\` CLI, a Docker Engine (DOCKER_HOST)${options.target === 'kubernetes' ? ' and the cluster (KUBECONFIG)' : ' that is the swarm manager'},`,
    ' and the workspace whose .mlops/monitoring folder holds the reviews.',
  ].join('\n');
  return document.toString({ lineWidth: 0 });
}
