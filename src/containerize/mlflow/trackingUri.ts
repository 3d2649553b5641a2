import { parseTrackingUri } from '../../experiments/storeLocator';

/** The tracking URI MLflow's own client takes for a store the Experiments view found. */
export function mlflowTrackingUri(uri: string, base: string): string {
  const parsed = parseTrackingUri(uri, base);
  return parsed.kind === 'sqlite' ? `sqlite:///${parsed.location}` : parsed.kind === 'file' ? parsed.location : uri;
}
