// The `mlops` command line: global flags, subcommand dispatch and error reporting. Each area
// contributes its subcommands as CliCommand objects (see src/cli.ts).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MlopsError } from './errors';
import { redactUserInfo } from './redact';

export class UsageError extends Error {}

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface CliContext {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  json: boolean;
  io: CliIo;
}

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Resolves with the exit code (0 when omitted). */
  run(context: CliContext): Promise<number | void>;
}

const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  json: { type: 'boolean' },
} as const;

export interface Program {
  name: string;
  version: string;
  commands: CliCommand[];
}

export function helpText(program: Program, command?: CliCommand): string {
  if (command) return `Usage: ${program.name} ${command.usage}\n\n${command.summary}\n`;
  const width = Math.max(...program.commands.map((c) => c.name.length));
  return [
    `Usage: ${program.name} <command> [options]`,
    '',
    'MLOps from the command line: the same operations as the VS Code extension.',
    '',
    'Commands:',
    ...program.commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (also after a command)',
    '  -V, --version  print the version',
    '  --json         machine-readable output on stdout',
    '',
  ].join('\n');
}

/** Runs the program and returns the exit code: 0 success, 1 failure, 2 usage error. */
export async function runCli(program: Program, argv: string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  try {
    const at = argv.findIndex((arg) => !arg.startsWith('-'));
    const name = at < 0 ? undefined : argv[at];
    const command = program.commands.find((c) => c.name === name);
    if (name && !command) throw new UsageError(`unknown command '${name}'. Run '${program.name} --help' for the list.`);
    // Only the command name itself is taken out: its arguments may repeat it (mlops lake tables --lake lake).
    const parsed = parse([...argv.slice(0, Math.max(at, 0)), ...argv.slice(at + 1)], {
      ...GLOBAL_OPTIONS,
      ...command?.options,
    });
    // --version is the program's only before a command; after one, it belongs to the command.
    if (parsed.values.version && (!command || !('version' in command.options))) {
      io.stdout(json ? `${JSON.stringify({ version: program.version })}\n` : `${program.version}\n`);
      return 0;
    }
    if (parsed.values.help || !command) {
      io.stdout(helpText(program, command));
      return command || parsed.values.help ? 0 : 2;
    }
    return (await command.run({ values: parsed.values, positionals: parsed.positionals, json, io })) ?? 0;
  } catch (error) {
    const usage = error instanceof UsageError;
    const message = redactUserInfo(error instanceof Error ? error.message : String(error));
    const remedy = error instanceof MlopsError ? error.remedy : undefined;
    io.stderr(
      json
        ? `${JSON.stringify({ error: message, ...(remedy ? { remedy } : {}) })}\n`
        : `${program.name}: ${message}${remedy ? `\n${remedy}` : ''}\n`,
    );
    return usage ? 2 : 1;
  }
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
