// What the Deployments view, the commands and the CLI know about a deployment target. Docker
// Swarm implements it (swarm/); Kubernetes is the second implementation.

export interface DeploySpec {
  /** The service name: lower case letters, digits and dashes. */
  name: string;
  /** The image to run, as built locally or already in a registry. */
  image: string;
  replicas?: number;
  /** The container port the model server listens on (8080 for our images). */
  containerPort?: number;
  /** The port published on the host; none when absent. */
  publishedPort?: number;
  /** `host` publishes on each node directly; `ingress` uses the routing mesh. */
  publishMode?: 'host' | 'ingress';
  env?: Record<string, string>;
  /** CPU cores and memory (MiB) limits per replica. */
  limits?: { cpus?: number; memoryMb?: number };
  /** Why this revision exists ("retrained on November data"); shown in the history. */
  changeCause?: string;
  /** A registry (host[:port]) to push the image to and deploy it from by digest. */
  registry?: string;
  /** Kubernetes: seconds a rollout may make no progress before it is rolled back. */
  progressDeadlineSeconds?: number;
  /** Kubernetes: annotations of the pods (a service mesh's, a secrets injector's...). */
  podAnnotations?: Record<string, string>;
  /** Kubernetes: a HorizontalPodAutoscaler on CPU use. */
  autoscale?: { minReplicas: number; maxReplicas: number; cpuPercent?: number };
}

export type Health = 'healthy' | 'converging' | 'degraded' | 'failed' | 'unknown';

export interface Revision {
  revision: number;
  image: string;
  /** The image digest (repo@sha256:...) when the image came from a registry. */
  digest: string | null;
  createdAt: string;
  changeCause: string;
  deployedBy: string;
  gitCommit: string | null;
  mlflowRunId: string | null;
  current: boolean;
  stable: boolean;
}

export interface Task {
  /** A Swarm task's id, or a Kubernetes pod's name. */
  id: string;
  /** `pod` on Kubernetes; a Swarm task otherwise. */
  kind?: 'task' | 'pod';
  state: string;
  desiredState: string;
  node: string;
  image: string;
  revision: number | null;
  error: string | null;
  updatedAt: string;
}

export interface Endpoint {
  url: string;
  /** Swarm: `host` or `ingress` publishing; Kubernetes: a NodePort, or a ClusterIP reached in the cluster. */
  publishMode: 'host' | 'ingress' | 'nodePort' | 'cluster';
}

export interface DeploymentStatus {
  name: string;
  image: string;
  revision: number;
  replicas: { running: number; desired: number };
  health: Health;
  /** What the orchestrator says about the last update (rollback reasons included). */
  message: string | null;
  endpoints: Endpoint[];
}

export interface DeployProgress {
  message: string;
  /** 0..1 when known. */
  fraction?: number;
}

export interface DeployOptions {
  signal?: AbortSignal;
  onProgress?(progress: DeployProgress): void;
  /** How long to wait for convergence before reporting failure. */
  timeoutMs?: number;
}

export interface DeployResult {
  status: DeploymentStatus;
  revision: Revision;
  /** True when the orchestrator rolled the update back (the previous revision still serves). */
  rolledBack: boolean;
}

export interface DeployTarget {
  /** "swarm", "kubernetes". */
  readonly kind: string;
  /** Where it deploys, for messages: the engine's host, or the cluster context. */
  readonly location: string;
  deploy(spec: DeploySpec, options?: DeployOptions): Promise<DeployResult>;
  list(): Promise<DeploymentStatus[]>;
  status(name: string): Promise<DeploymentStatus>;
  history(name: string): Promise<Revision[]>;
  /** To the previous revision, or to revision `toRevision`. */
  rollback(name: string, toRevision?: number, options?: DeployOptions): Promise<DeployResult>;
  /** Marks a revision as the one "Revert to stable" returns to. */
  pinStable(name: string, revision: number): Promise<void>;
  scale(name: string, replicas: number, options?: DeployOptions): Promise<DeploymentStatus>;
  tasks(name: string): Promise<Task[]>;
  /** Streams log lines until the signal aborts (with follow) or the logs end. */
  logs(
    name: string,
    options: { follow?: boolean; tail?: number; signal?: AbortSignal; onLine(line: string): void },
  ): Promise<void>;
  remove(name: string): Promise<void>;
  endpoints(name: string): Promise<Endpoint[]>;
  /**
   * The deployment's data token, which GET /requests, POST /feedback and the router's
   * /router/backends/requests ask for: made at the first deploy, kept as a Swarm secret or a
   * Kubernetes Secret, and removed with the deployment.
   */
  dataToken(name: string): Promise<string>;
  /**
   * Calls `onChange` (debounced) when something of the target's deployments changes, until the
   * signal aborts; false when the target offers no change stream (the caller then polls).
   */
  watch(onChange: () => void, signal: AbortSignal): Promise<boolean>;
  /** What the orchestrator recorded about a deployment (Kubernetes events), oldest first. */
  events?(name: string): Promise<DeploymentEvent[]>;
  /** CPU and memory of the running tasks or pods, where the orchestrator measures them. */
  resources?(name: string): Promise<ResourceUse[]>;
  /**
   * Starts or changes a traffic split (A/B test or shadow) of a deployment: its production version
   * keeps serving as the variant named `production`, each other variant runs as a service (Swarm)
   * or Deployment (Kubernetes) of its own, and a router or an HTTPRoute shares the traffic.
   */
  split(name: string, split: TrafficSplit, options?: DeployOptions): Promise<SplitStatus>;
  /** The split of a deployment, or null when all its traffic goes to production. */
  splitStatus(name: string): Promise<SplitStatus | null>;
  /** Ends the split: production takes all traffic again and the other variants are removed. */
  endSplit(name: string, options?: DeployOptions): Promise<void>;
}

/** The variant every split has: the deployment's own (production) version. */
export const PRODUCTION_VARIANT = 'production';

export interface SplitVariant {
  /** `production`, or a name of lower-case letters, digits and dashes (`candidate`, `b`). */
  name: string;
  /** The image; for `production`, the deployment's current image (ignored when given). */
  image?: string;
  /** A share of the traffic, relative to the other live variants' weights. */
  weight: number;
  /** A shadow variant gets a mirrored copy of `weight` % of requests; its answers are logged, never returned. */
  shadow?: boolean;
  replicas?: number;
}

export interface TrafficSplit {
  variants: SplitVariant[];
  /**
   * What keeps a client on one variant: `header:X-User-Id` (a request header) or `field:user_id`
   * (a field of the request's first row). Hashed, so the same value always reaches the same variant.
   * Without it (or when a request lacks it) the request id is hashed.
   */
  stickyKey?: string;
}

export interface SplitVariantStatus {
  name: string;
  image: string;
  weight: number;
  shadow: boolean;
  /** The service (Swarm) or Deployment (Kubernetes) that runs it. */
  workload: string;
  replicas: { running: number; desired: number };
}

export interface SplitStatus {
  deployment: string;
  variants: SplitVariantStatus[];
  stickyKey: string | null;
  /** What shares the traffic: the deployment's proxy (HAProxy, NAME-router), or a Gateway API HTTPRoute. */
  via: 'router' | 'httproute';
  startedAt: string | null;
  /** With an HTTPRoute: its Gateway and what the Gateway's controller says of it. */
  route?: RouteStatus;
}

/** An HTTPRoute's standing with its Gateway (`NAMESPACE/NAME`); null where no controller has said. */
export interface RouteStatus {
  gateway: string;
  accepted: boolean | null;
  resolvedRefs: boolean | null;
  message: string;
}

/** What a task or pod uses now: CPU in % of one core, memory in MiB. */
export interface ResourceUse {
  instance: string;
  cpuPercent: number | null;
  memoryMb: number | null;
}

export interface DeploymentEvent {
  time: string;
  /** `Normal` or `Warning`. */
  type: string;
  reason: string;
  /** `Kind/name` of the object the event is about. */
  object: string;
  message: string;
  count: number;
}
