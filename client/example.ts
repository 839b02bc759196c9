/**
 * The typed client at work: upload a dump, wait for its result, list results, and follow a
 * training's events. Everything below is checked by the compiler against the API's document.
 *
 *   deno run --allow-net --allow-read --allow-env client/example.ts [dump.npz]
 *
 * INFOPLANE_URL (default http://127.0.0.1:8000) and INFOPLANE_API_KEY choose the service. Without
 * a file, a small synthetic dump is sent as JSON.
 *
 * @module
 */
import {
  type Analysis,
  createInfoplaneClient,
  formData,
  InfoplaneError,
  jobEvents,
  type JobStreamEvent,
  type JobSummary,
  waitForJob,
} from "./mod.ts";

/** What the example saw (tests check it). */
export interface ExampleReport {
  analysis: Analysis;
  listed: JobSummary[];
  trainingEvents: JobStreamEvent[];
}

/** A small dump with structure: two classes, a layer that sees them and one that does not. */
function syntheticDump(m = 64): { x: number[][]; y: number[]; layers: Record<string, number[][]> } {
  const x: number[][] = [], y: number[] = [], fc1: number[][] = [], out: number[][] = [];
  for (let i = 0; i < m; i++) {
    const label = i % 2;
    const a = Math.sin(i * 12.9898) * 0.5 + label, b = Math.cos(i * 78.233) * 0.5;
    x.push([a, b]);
    y.push(label);
    fc1.push([Math.tanh(a + b), Math.tanh(a - b)]);
    out.push([label === 0 ? 1 : 0, label]);
  }
  return { x, y, layers: { fc1, out } };
}

/**
 * Runs the example against a service.
 *
 * @param baseUrl the service
 * @param opts an API key; an .npz archive to upload (multipart) instead of the synthetic JSON
 *   dump; a training request (default: a tiny MLP on 256 MNIST images); a log sink
 */
export async function runExample(
  baseUrl: string,
  opts: {
    apiKey?: string;
    npz?: Uint8Array;
    training?: Record<string, unknown>;
    log?: (line: string) => void;
  } = {},
): Promise<ExampleReport> {
  const log = opts.log ?? console.log;
  const client = createInfoplaneClient(baseUrl, { apiKey: opts.apiKey });

  // 1. Upload a dump. `?async=true` queues it even when small, to show the waiting.
  const posted = opts.npz
    ? await client.POST("/v1/analyses", {
      params: { query: { async: "true" } },
      body: {
        dump: new File([opts.npz as Uint8Array<ArrayBuffer>], "dump.npz"),
        estimator: JSON.stringify({ sigma: "median" }),
        label: "client example",
      },
      bodySerializer: formData,
    })
    : await client.POST("/v1/analyses", {
      params: { query: { async: "true" } },
      body: { ...syntheticDump(), estimator: { sigma: "median" }, label: "client example" },
    });
  if (posted.error) throw new InfoplaneError(posted.response.status, posted.error);
  log(`analysis ${posted.data.id}: ${posted.data.status} (HTTP ${posted.response.status})`);

  // 2. Wait for the result.
  const analysis = await waitForJob(client, "analysis", posted.data.id);
  if (analysis.status !== "done" || !analysis.summary) {
    throw new Error(`analysis ${analysis.id} ${analysis.status}: ${analysis.error?.message}`);
  }
  for (const layer of analysis.checkpoints?.at(-1)?.layers ?? []) {
    log(
      `  ${layer.name}: nHSIC(X;T) ${layer.nhsic_x_norm.toFixed(3)}, ` +
        `nHSIC(Y;T) ${layer.nhsic_y_norm.toFixed(3)}`,
    );
  }
  const csv = await client.GET("/v1/analyses/{id}.csv", {
    params: { path: { id: analysis.id } },
    parseAs: "text",
  });
  if (csv.error) throw new InfoplaneError(csv.response.status, csv.error);
  log(`  CSV: ${csv.data.split("\n").length - 2} rows`);

  // 3. List results, newest first.
  const list = await client.GET("/v1/jobs", { params: { query: { kind: "analysis", limit: 5 } } });
  if (list.error) throw new InfoplaneError(list.response.status, list.error);
  for (const job of list.data.items) log(`  ${job.id} ${job.status} ${job.summary}`);

  // 4. Start a training and read its events until the end.
  const training = await client.POST("/v1/trainings", {
    body: opts.training as never ?? {
      model: { preset: "mlp", depth: 2, width: 32 },
      dataset: { name: "mnist", train_limit: 256, test_limit: 128 },
      methods: [{ name: "e2e" }, { name: "layerwise" }],
      tracking: { probe_size: 64, probe_batch: 32 },
      label: "client example",
    },
  });
  if (training.error) throw new InfoplaneError(training.response.status, training.error);
  const events: JobStreamEvent[] = [];
  for await (const e of jobEvents(client, "training", training.data.id)) {
    events.push(e);
    if (e.event === "progress" && "methods_done" in e.data) {
      log(`  training: ${(e.data.fraction * 100).toFixed(0)}% (${e.data.method ?? "starting"})`);
    } else if (e.event === "method_done" && e.data.type === "method_done") {
      log(`  ${e.data.method}: test accuracy ${e.data.test_accuracy.toFixed(3)}`);
    } else if (e.event === "end") log(`  training ${e.data.status}`);
  }
  return { analysis, listed: list.data.items, trainingEvents: events };
}

if (import.meta.main) {
  const url = Deno.env.get("INFOPLANE_URL") ?? "http://127.0.0.1:8000";
  const npz = Deno.args[0] ? await Deno.readFile(Deno.args[0]) : undefined;
  await runExample(url, { apiKey: Deno.env.get("INFOPLANE_API_KEY"), npz });
}
