// The webview side of the message contracts (src/<area>/contract.ts): one union per direction.
interface VsCodeApi {
  postMessage(message: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export function connectToHost<ToHost, FromHost>(
  onMessage: (message: FromHost) => void,
): { post(message: ToHost): void } {
  const api = acquireVsCodeApi();
  window.addEventListener('message', (event: MessageEvent<FromHost>) => onMessage(event.data));
  return { post: (message) => api.postMessage(message) };
}
