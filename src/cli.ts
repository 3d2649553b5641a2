// Entry point of the `mlops` command line (dist/cli.js).
import { version } from '../package.json';
import { runCli } from './cli/program';
import { doctorCommand } from './environment/doctorCommand';
import { datasetsCommand, profileCommand } from './datasets/datasetCommands';
import { lakeCommand } from './datasets/lake/lakeCommands';
import { pipelineCommand } from './datasets/pipelines/pipelineCommands';
import { containerizeCommand } from './deploy/containerizeCommand';
import {
  deployCommand,
  historyCommand,
  removeCommand,
  rollbackCommand,
  statusCommand,
  tokenCommand,
} from './deploy/deployCliCommands';
import { experimentsCommand, metricHistoryCommand, runsCommand } from './experiments/cliCommands';
import { driftCommand } from './monitor/driftCommand';
import { exportCommand } from './monitor/export/exportCommand';
import { monitorCommand } from './monitor/monitorCommand';
import { reviewCommand } from './release/review/reviewCommand';
import { workflowCommand } from './release/workflow/workflowCommand';
import { backtestCommand } from './release/backtest/backtestCommand';
import { abtestCommand, promoteCommand, splitCommand } from './release/releaseCliCommands';

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
