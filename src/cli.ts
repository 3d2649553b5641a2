// Entry point of the `mlops` command line (dist/cli.js).
import { version } from '../package.json';
import { runCli } from './shared/cliFramework';
import { doctorCommand } from './environment/cli';
import { datasetsCommand, profileCommand } from './datasets/cli';
import { lakeCommand } from './datasets/lake/cli';
import { pipelineCommand } from './datasets/pipelines/cli';
import { containerizeCommand } from './containerize/cli';
import {
  deployCommand,
  historyCommand,
  removeCommand,
  rollbackCommand,
  statusCommand,
  tokenCommand,
} from './deploy/cli';
import { experimentsCommand, metricHistoryCommand, runsCommand } from './experiments/cli';

import { exportCommand } from './monitor/export/cli';
import { driftCommand, monitorCommand } from './monitor/cli';
import { reviewCommand } from './release/review/cli';
import { workflowCommand } from './release/workflow/cli';
import { backtestCommand } from './release/backtest/cli';
import { abtestCommand, promoteCommand, splitCommand } from './release/cli';

const program = {
  name: 'mlops',
  version,
  commands: [
    doctorCommand,
    experimentsCommand,
    runsCommand,
    metricHistoryCommand,
    datasetsCommand,
    profileCommand,
    lakeCommand,
    pipelineCommand,
    containerizeCommand,
    driftCommand,
    monitorCommand,
    exportCommand,
    splitCommand,
    abtestCommand,
    promoteCommand,
    reviewCommand,
    workflowCommand,
    backtestCommand,
    deployCommand,
    statusCommand,
    historyCommand,
    rollbackCommand,
    removeCommand,
    tokenCommand,
  ],
};

void runCli(program, process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
