/**
 * One answer for all processes of a port (docs/metrics.md#several-processes). `[api] workers`
 * (and `[worker] workers`) processes share their port through node:cluster, so a scrape reaches
 * one of them at random; that one asks the supervising primary, which collects every process's
 * registry over the cluster's IPC channel and adds them up (prom-client's AggregatorRegistry:
 * counters and histograms summed, Node's process metrics as each declares). A single process
 * (no cluster, or the all-in-one) answers from its own registry.
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import { registry } from './registry.js';

const REQUEST = 'warre:metrics-request';
const ANSWER = 'warre:metrics-answer';
/** How long a process waits for the primary's sum (the primary waits at most 5 s for each process). */
const ANSWER_TIMEOUT_MS = 10_000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: string;
}
interface MetricsAnswer {
  type: typeof ANSWER;
  id: string;
  text?: string;
  error?: string;
}

const isRequest = (m: unknown): m is MetricsRequest => (m as MetricsRequest | null)?.type === REQUEST;
const isAnswer = (m: unknown): m is MetricsAnswer => (m as MetricsAnswer | null)?.type === ANSWER;

let primaryStarted = false;

/**
 * In the supervising primary: answer the processes' requests for the sum of all of them.
 * Idempotent. The primary's own registry is not part of the sum (it only supervises).
 */
export function aggregateForWorkers(): void {
  if (primaryStarted || !cluster.isPrimary) return;
  primaryStarted = true;
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isRequest(message)) return;
    const reply = (answer: Omit<MetricsAnswer, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, ...answer } satisfies MetricsAnswer);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
}

const pending = new Map<string, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
let workerStarted = false;

/** In a cluster process: answer the primary's collection requests and take its answers. */
function startWorkerSide(): void {
  if (workerStarted) return;
  workerStarted = true;
  // Constructing one registers prom-client's listener that sends this process's metrics to the primary.
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
  process.on('message', (message: unknown) => {
    if (!isAnswer(message)) return;
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    clearTimeout(p.timer);
    if (message.text !== undefined) p.resolve(message.text);
    else p.reject(new Error(`the supervising process could not collect the metrics: ${message.error ?? 'no answer'}`));
  });
}

/** Called at start-up in every process that serves metrics, so the primary can collect from it. */
export function prepareProcessMetrics(): void {
  if (cluster.isWorker) startWorkerSide();
}

/** The Prometheus text of this process, or of every process of the cluster it belongs to. */
export async function processMetrics(): Promise<string> {
  if (!cluster.isWorker || !process.send) return registry.metrics();
  startWorkerSide();
  const id = randomUUID();
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error('the supervising process did not answer with the metrics'));
    }, ANSWER_TIMEOUT_MS);
    pending.set(id, { resolve, reject, timer });
    process.send!({ type: REQUEST, id } satisfies MetricsRequest);
  });
}

/** The content type of the text (Prometheus text format 0.0.4). */
export const METRICS_CONTENT_TYPE = registry.contentType;
