// The contributions in package.json agree with the code and follow the conventions.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const contributes = manifest.contributes;
const source = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => readFileSync(join(root, 'src', file), 'utf8'))
  .join('\n');

test('every contributed command is registered in code, under MLOps, with a codicon', () => {
  for (const command of contributes.commands) {
    assert.match(command.command, /^mlops\.[a-z][A-Za-z]+$/, command.command);
    assert.equal(command.category, 'MLOps', command.command);
    assert.match(command.icon ?? '', /^\$\([a-z-]+\)$/, `${command.command} has a codicon`);
    assert.ok(source.includes(`'${command.command}'`), `${command.command} is registered in src/`);
  }
});

test('menus and welcome buttons only name commands that exist', () => {
  const ids = new Set(contributes.commands.map((c: { command: string }) => c.command));
  for (const [menu, items] of Object.entries(contributes.menus) as [string, { command: string }[]][]) {
    for (const item of items) assert.ok(ids.has(item.command), `${menu}: ${item.command}`);
  }
  for (const welcome of contributes.viewsWelcome) {
    for (const [, command] of welcome.contents.matchAll(/\(command:(mlops\.[A-Za-z]+)\)/g)) {
      assert.ok(ids.has(command), `${welcome.view}: ${command}`);
    }
  }
});

test('the MLOps container holds the three views, each with welcome content', () => {
  const views = contributes.views.mlops.map((v: { id: string }) => v.id);
  assert.deepEqual(views, ['mlops.datasets', 'mlops.experiments', 'mlops.deployments']);
  for (const view of views) {
    assert.ok(
      contributes.viewsWelcome.some((w: { view: string }) => w.view === view),
      view,
    );
    assert.ok(source.includes(`'${view}'`), `${view} is registered in src/`);
  }
  assert.equal(contributes.viewsContainers.activitybar[0].icon, 'media/mlops.svg');
});

test('activation is lazy: views, commands and MLflow or notebook workspaces', () => {
  const events: string[] = manifest.activationEvents;
  assert.ok(!events.includes('*') && !events.includes('onStartupFinished'));
  for (const view of contributes.views.mlops) assert.ok(events.includes(`onView:${view.id}`), view.id);
  for (const command of contributes.commands)
    assert.ok(events.includes(`onCommand:${command.command}`), command.command);
  for (const marker of ['mlflow.db', 'mlruns', '*.ipynb']) {
    assert.ok(
      events.some((e) => e.startsWith('workspaceContains:') && e.includes(marker)),
      marker,
    );
  }
});

test('every setting is under mlops. and described', () => {
  for (const [key, setting] of Object.entries(contributes.configuration.properties) as [
    string,
    { description?: string; markdownDescription?: string },
  ][]) {
    assert.match(key, /^mlops\./);
    assert.ok((setting.description ?? setting.markdownDescription ?? '').length > 20, key);
  }
});

test('the CLI is the package bin and the extension keeps vscode external', () => {
  assert.equal(manifest.bin.mlops, './dist/cli.js');
  assert.equal(manifest.main, './dist/extension.js');
  assert.ok(manifest.engines.vscode.startsWith('^1.'));
});

test('untrusted and virtual workspaces are declared: settings naming programs or hosts are restricted, code-running commands need trust', () => {
  const { untrustedWorkspaces, virtualWorkspaces } = manifest.capabilities;
  assert.equal(untrustedWorkspaces.supported, 'limited');
  assert.match(untrustedWorkspaces.description, /Restricted Mode/);
  const settings = Object.keys(contributes.configuration.properties);
  // Every setting that names a program, a host or a credentials file: the workspace cannot set it.
  const namesProgramOrHost = settings.filter((key) =>
    /(Path|Host|Uri|Url|Image)$|kubeconfig|registry|deployTargets/.test(key),
  );
  assert.deepEqual([...untrustedWorkspaces.restrictedConfigurations].sort(), namesProgramOrHost.sort());
  for (const key of [
    'mlops.pythonPath',
    'mlops.dockerHost',
    'mlops.trackingUri',
    'mlops.kubeconfig',
    'mlops.grafanaUrl',
    'mlops.prometheusUrl',
    'mlops.registry',
  ]) {
    assert.ok(untrustedWorkspaces.restrictedConfigurations.includes(key), key);
  }
  const needTrust = contributes.commands
    .filter((c: { enablement?: string }) => c.enablement === 'isWorkspaceTrusted')
    .map((c: { command: string }) => c.command);
  assert.deepEqual(needTrust.sort(), [
    'mlops.containerizeModel',
    'mlops.containerizeNotebook',
    'mlops.openRunCommit',
    'mlops.runPipeline',
    'mlops.runPipelineStep',
    'mlops.showDatasetHistory',
  ]);
  assert.equal(virtualWorkspaces.supported, false);
  assert.ok(virtualWorkspaces.description.length > 40);
});
