import type { CliCommand } from '../shared/cliFramework';
import { checkEnvironment } from './checks';

const MARKS = { ok: '✓', warning: '!', missing: '✗' } as const;

export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'Check Python and its ML packages, Docker and Swarm, Kubernetes and git.',
  usage: 'doctor [--python PATH] [--docker-host HOST] [--kubeconfig FILE] [--json]',
  options: { python: { type: 'string' }, 'docker-host': { type: 'string' }, kubeconfig: { type: 'string' } },
  async run({ values, json, io }) {
    const checks = await checkEnvironment({
      pythonPath: values.python as string | undefined,
      dockerHost: values['docker-host'] as string | undefined,
      kubeconfig: values.kubeconfig as string | undefined,
      cwd: process.cwd(),
    });
    if (json) {
      io.stdout(`${JSON.stringify({ checks }, null, 2)}\n`);
      return;
    }
    const width = Math.max(...checks.map((c) => c.label.length));
    for (const check of checks) {
      io.stdout(`${MARKS[check.status]} ${check.label.padEnd(width)}  ${check.detail}\n`);
      if (check.remedy) io.stdout(`  ${' '.repeat(width)}  → ${check.remedy}\n`);
    }
  },
};
