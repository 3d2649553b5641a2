// What every tracking store returns, whatever MLflow format it reads.

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
/** MLflow's statuses, and UNKNOWN when the store does not say (a run whose meta.yaml cannot be read). */
export type RunStatus = (typeof RUN_STATUSES)[number] | 'UNKNOWN';
export type LifecycleStage = 'active' | 'deleted';

export interface Experiment {
  id: string;
  name: string;
  lifecycleStage: LifecycleStage;
  artifactLocation?: string;
  creationTime?: number;
  lastUpdateTime?: number;
  tags: Record<string, string>;
  /** Set when this experiment could not be read; says what is wrong and in which file. */
  problem?: string;
}

export interface Run {
  runId: string;
  runName: string;
  experimentId: string;
  status: RunStatus;
  startTime: number | null;
  endTime: number | null;
  lifecycleStage: LifecycleStage;
  artifactUri?: string;
  params: Record<string, string>;
  /** The latest value of each metric: the max by (step, timestamp), as MLflow defines it. */
  metrics: Record<string, number>;
  tags: Record<string, string>;
  /** Set when part of this run could not be read; says what is wrong and in which file. */
  problem?: string;
}

export interface MetricPoint {
  step: number;
  timestamp: number;
  value: number;
}

export interface MetricHistory {
  runId: string;
  key: string;
  /** Points in the store, before downsampling. */
  totalPoints: number;
  /** In step order (then timestamp), downsampled when there were more than the budget. */
  points: MetricPoint[];
  /** Set when some of the history could not be read (and was skipped); names the file and lines. */
  problem?: string;
}

export interface ModelVersion {
  name: string;
  version: string;
  runId?: string;
  source?: string;
  status?: string;
  stage?: string;
  creationTime?: number;
  aliases: string[];
}

export interface RegisteredModel {
  name: string;
  description?: string;
  creationTime?: number;
  lastUpdatedTime?: number;
  aliases: Record<string, string>;
  versions: ModelVersion[];
}

export interface RunSearch {
  experimentIds: string[];
  /** MLflow's filter syntax: `metrics.acc > 0.9 AND params.model = 'rf'`. */
  filter?: string;
  /** MLflow's order_by: `metrics.acc DESC`, `attributes.start_time`, `params.model ASC`. */
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
  /** Active runs only unless asked otherwise, as in MLflow. */
  lifecycle?: 'active' | 'deleted' | 'all';
}

export interface RunPage {
  runs: Run[];
  nextPageToken?: string;
}

/** A read-only MLflow tracking store: mlflow.db, an mlruns/ folder or a tracking server. */
export interface TrackingStore {
  readonly kind: 'sqlite' | 'file' | 'rest';
  /** Where it reads from, for messages. */
  readonly location: string;
  listExperiments(): Promise<Experiment[]>;
  searchRuns(search: RunSearch): Promise<RunPage>;
  /** The history of one metric, downsampled to at most `maxPoints` points when longer. */
  metricHistory(runId: string, key: string, maxPoints?: number): Promise<MetricHistory>;
  listRegisteredModels(): Promise<RegisteredModel[]>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_POINTS = 2000;

/** What to do when a run id is not in the store. */
export const RUN_IDS_REMEDY =
  "Run 'mlops runs --experiment ID' for the run ids, or pick the run in the Experiments view.";
