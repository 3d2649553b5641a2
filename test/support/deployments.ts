// Deployment statuses and revisions for the unit tests of the Deployments view.
import type { DeploymentStatus, Revision } from '../../src/deploy/targets/deployTarget';

export function status(fields: Partial<DeploymentStatus> = {}): DeploymentStatus {
  return {
    name: 'churn',
    image: 'mlops/churn_forest:4f2a9c0d1e2f',
    revision: 2,
    replicas: { running: 2, desired: 2 },
    health: 'healthy',
    message: null,
    endpoints: [{ url: 'http://127.0.0.1:8080', publishMode: 'host' }],
    ...fields,
  };
}

export function revision(n: number, fields: Partial<Revision> = {}): Revision {
  return {
    revision: n,
    image: `mlops/churn_forest:v${n}`,
    digest: null,
    createdAt: `2025-06-0${n}T14:05:09.123Z`,
    changeCause: '',
    deployedBy: 'ana@laptop',
    gitCommit: null,
    mlflowRunId: null,
    current: false,
    stable: false,
    ...fields,
  };
}
