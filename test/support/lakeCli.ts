// `mlops lake ...` as its own process, before src/cli.ts registers the command: a test runs it
// in a folder to check the default lake location, exit codes and stderr.
import { runCli } from '../../src/shared/cliFramework';
import { lakeCommand } from '../../src/datasets/lake/cli';

void runCli({ name: 'mlops', version: '0.0.0', commands: [lakeCommand] }, process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
