/**
 * Types of the infoplane API, generated from its OpenAPI document (client/openapi.json) by
 * `deno task client` (scripts/client.ts, openapi-typescript). Do not edit: regenerate.
 *
 * @module
 */
export interface paths {
    "/v1/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Service health
         * @description Liveness, the compute backend and the load. Needs no API key and is never rate-limited.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Jobs of every kind, newest first */
        get: operations["listJobs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analyses": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's analyses, newest first */
        get: operations["listAnalyses"];
        put?: never;
        /**
         * Analyse an activation dump
         * @description Computes nHSIC(X;T_l) and nHSIC(Y;T_l) for every layer and checkpoint, with layer-differentiation and information-bottleneck summaries. Small dumps answer 200 with the result; large ones (or ?async=true) answer 202 with a Location to poll and a Retry-After.
         */
        post: operations["createAnalysis"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/trainings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's trainings, newest first */
        get: operations["listTrainings"];
        put?: never;
        /**
         * Start a training job
         * @description Queues a job that trains the model with each method and tracks nHSIC(X;T_l) and nHSIC(Y;T_l) of every layer during training. Answers 202 with a Location to poll; follow progress at `/v1/trainings/{id}/events` (server-sent events). Send JSON, or multipart with a `request` field (JSON text) and a `dataset` .npz file for your own data.
         */
        post: operations["createTraining"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analyses/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Status and result of an analysis
         * @description Status, progress and, once done, the result. `/v1/analyses/{id}.csv` has the table as CSV.
         */
        get: operations["getAnalysis"];
        put?: never;
        post?: never;
        /**
         * Delete an analysis
         * @description Stops it if it is queued or running, then removes its record, result and input.
         */
        delete: operations["deleteAnalysis"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analyses/{id}.csv": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The result of an analysis as CSV
         * @description One row per checkpoint and layer: step, layer, nhsic_x, nhsic_y, nhsic_x_norm, nhsic_y_norm, cka_x, cka_y (and the columns of extra measures when asked for).
         */
        get: operations["getAnalysisCsv"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analyses/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Progress of an analysis as server-sent events
         * @description `progress` events (an `AnalysisProgress`) while it runs, then a final `end` event with its status.
         */
        get: operations["getAnalysisEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analyses/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a queued or running analysis
         * @description A queued analysis never starts; a running one stops after its current estimator task. The record stays, with status cancelled.
         */
        post: operations["cancelAnalysis"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/trainings/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Status, progress and result of a training job
         * @description `/v1/trainings/{id}.csv` has the result as a table.
         */
        get: operations["getTraining"];
        put?: never;
        post?: never;
        /**
         * Delete a training job
         * @description Stops it if it is queued or running, then removes its record, events, result and uploaded dataset.
         */
        delete: operations["deleteTraining"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/trainings/{id}.csv": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The result of a training job as CSV
         * @description One row per method, checkpoint and layer (method, step, epoch, layer, nhsic_x, nhsic_y, nhsic_x_norm, nhsic_y_norm, test_accuracy); the table exists once the job is done (409 before).
         */
        get: operations["getTrainingCsv"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/trainings/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Progress of a training job as server-sent events
         * @description Replays the job's logged events, then streams new ones until the job ends. Event names are the event types (started, step, checkpoint, method_done, log), data is the event as JSON (`TrainingEvent`), ids are positions in the log (send Last-Event-ID to resume); `progress` events (no id) carry the record's `TrainingProgress` when it changes. A final `end` event carries `{"status", "error"}`. Step events are thinned out (a few per second).
         */
        get: operations["getTrainingEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/trainings/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a training job
         * @description A queued job never starts; a running one stops at its next step. The record stays, with status cancelled.
         */
        post: operations["cancelTraining"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/experiments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Experiments that reproduce the paper
         * @description The named experiments, what each asks, the claims it informs and its runs and settings at each scale. Suites that were run are listed at `/v1/jobs?kind=experiment`.
         */
        get: operations["getExperimentCatalogue"];
        put?: never;
        /**
         * Run experiments
         * @description Queues an experiment suite. Answers 202 with a Location to poll; progress streams at `/v1/experiments/{id}/events`; once done, the report is at `/v1/experiments/{id}/report.md` and `.html`.
         */
        post: operations["createExperiment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/experiments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Status, progress and results of an experiment suite */
        get: operations["getExperiment"];
        put?: never;
        post?: never;
        /**
         * Delete an experiment suite
         * @description Stops it if it is queued or running, then removes its record and results.
         */
        delete: operations["deleteExperiment"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/experiments/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Progress of an experiment suite as server-sent events
         * @description Like a training's events: every method training of every run, then `end`.
         */
        get: operations["getExperimentEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/experiments/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel an experiment suite */
        post: operations["cancelExperiment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/experiments/{id}/report.{format}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The report of a finished experiment suite
         * @description Each of the paper's claims with the measured numbers (mean ± sd over seeds), the verdict and the rule behind it, the figures, settings, seeds, command and wall time. `md`: Markdown whose figures link to `figures/{name}.png` (relative to the report); `html`: a standalone page with the figures inline (SVG). 409 until the suite is done.
         */
        get: operations["getExperimentReport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/experiments/{id}/figures/{name}.{format}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A figure of a finished experiment suite's report
         * @description `json`: the Vega-Lite v5 spec (data inlined); `svg`, `png`: the service's rendering. Figure names are listed in the report.
         */
        get: operations["getExperimentFigure"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/charts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Charts the service draws
         * @description Each chart is served as a Vega-Lite v5 spec (json, data inlined, ready for vega-embed) or rendered by the service (svg, png) for any finished analysis or training.
         */
        get: operations["listCharts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analyses/{id}/charts/{chart}.{format}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Chart of a finished analysis
         * @description A chart of analysis {id}: `json` is the Vega-Lite v5 spec with the data inlined (embed it with vega-embed), `svg` and `png` are the service's rendering of it (Inter font, white background). Unknown ids, charts and formats answer 404, and so does a analysis that has not finished yet. See /v1/charts for what each chart shows.
         */
        get: operations["getAnalysisChart"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/trainings/{id}/charts/{chart}.{format}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Chart of a finished training
         * @description A chart of training {id}: `json` is the Vega-Lite v5 spec with the data inlined (embed it with vega-embed), `svg` and `png` are the service's rendering of it (Inter font, white background). Unknown ids, charts and formats answer 404, and so does a training that has not finished yet. See /v1/charts for what each chart shows.
         */
        get: operations["getTrainingChart"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analyses/{id}/links": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Share an analysis for a while
         * @description A signed, expiring link that opens an analysis (its page, data, events and charts, read-only) without the API key: for a colleague, or for a dashboard that embeds the page (iframe) or a chart (png). Anyone with the link can read the result until it expires. See docs/embedding.md.
         */
        post: operations["createAnalysisLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/trainings/{id}/links": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Share a training for a while
         * @description A signed, expiring link that opens a training (its page, data, events and charts, read-only) without the API key: for a colleague, or for a dashboard that embeds the page (iframe) or a chart (png). Anyone with the link can read the result until it expires. See docs/embedding.md.
         */
        post: operations["createTrainingLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/experiments/{id}/links": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Share an experiment suite for a while
         * @description A signed, expiring link that opens an experiment suite (its page, data, events and charts, read-only) without the API key: for a colleague, or for a dashboard that embeds the page (iframe) or a chart (png). Anyone with the link can read the result until it expires. See docs/embedding.md.
         */
        post: operations["createExperimentLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description The data of a job's logged events (SSE event name = `type`). */
        TrainingEvent: {
            /** @enum {string} */
            type: "started";
            method: string;
            backend: string;
            device: string;
            /** @description Steps this method takes (all stages). */
            total_steps?: number;
            /** @description Epochs those steps make (stages x epochs). */
            epochs?: number;
        } | {
            /** @enum {string} */
            type: "step";
            method: string;
            epoch: number;
            step: number;
            loss: number;
            objective?: number;
        } | {
            /** @enum {string} */
            type: "checkpoint";
            method: string;
            epoch: number;
            step: number;
            train_loss: number;
            train_accuracy: number;
            test_accuracy: number;
            layers: {
                name: string;
                nhsic_x: number;
                nhsic_y: number;
            }[];
        } | {
            /** @enum {string} */
            type: "method_done";
            method: string;
            test_accuracy: number;
        } | {
            /** @enum {string} */
            type: "log";
            message: string;
        };
        /** @description The data of the final SSE event `end`; "gone": the job was deleted. */
        EndEvent: {
            /** @enum {string} */
            status: "queued" | "running" | "done" | "failed" | "cancelled" | "gone";
            error: components["schemas"]["JobError"] | null;
        };
        JobError: {
            message: string;
            /** @description Problem kind of an input error. */
            problem?: string;
            field?: string;
        };
        /** @description Liveness, backend and load. */
        Health: {
            /** @enum {string} */
            status: "ok" | "degraded";
            /** @description Why the service is degraded. */
            reasons: string[];
            version: string;
            linalg: string;
            uptime_s: number;
            /** @description This process's analysis workers (inline in serverless mode). */
            workers: {
                size: number;
                running: number;
                waiting: number;
            };
            jobs: {
                /** @enum {string} */
                engine: "embedded" | "redis";
                store: string;
                /** @description Jobs running / waiting in this process per kind (embedded engine). */
                load: {
                    [key: string]: {
                        running: number;
                        waiting: number;
                    };
                } | null;
                /** @description Fleet workers and how long ago each was seen. */
                fleet: {
                    name: string;
                    seen_at: string;
                    age_s: number;
                }[] | null;
            };
        };
        /**
         * @example {
         *       "items": [
         *         {
         *           "id": "0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b",
         *           "kind": "analysis",
         *           "label": "mnist mlp",
         *           "status": "done",
         *           "created_at": "2025-05-01T10:00:00.000Z",
         *           "finished_at": "2025-05-01T10:00:00.400Z",
         *           "summary": "m=512, 4 layers x 5 checkpoints",
         *           "progress": {
         *             "fraction": 1,
         *             "elapsed_s": 0.39,
         *             "eta_s": 0
         *           },
         *           "links": {
         *             "self": "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b"
         *           }
         *         }
         *       ],
         *       "next": null
         *     }
         */
        JobList: {
            items: components["schemas"]["JobSummary"][];
            /** @description URL of the next page; null on the last. */
            next: string | null;
        };
        /** @description One job in a listing. */
        JobSummary: {
            id: string;
            /** @enum {string} */
            kind: "analysis" | "training" | "experiment";
            label: string | null;
            /** @enum {string} */
            status: "queued" | "running" | "done" | "failed" | "cancelled";
            /**
             * Format: date-time
             * @description When the job was created.
             */
            created_at: string;
            /**
             * Format: date-time
             * @description When it finished.
             */
            finished_at: string | null;
            /** @description One line: "m=512, 4 layers x 5 checkpoints", the model and methods, or the experiments and scale. */
            summary: string;
            progress: {
                /** @description Share of the work done, 0 to 1. */
                fraction: number;
                /** @description Seconds since this attempt started. */
                elapsed_s: number;
                /** @description Estimated seconds left; null until there is a basis. */
                eta_s: number | null;
            } | null;
            /** @description Related URLs (self, events, csv, charts, ...). */
            links: {
                [key: string]: string;
            };
        };
        /**
         * @description An RFC 9457 problem: every error of the API.
         * @example {
         *       "type": "/docs/problems#shape-mismatch",
         *       "title": "Shape mismatch",
         *       "status": 422,
         *       "detail": "layer \"fc2\" has 255 rows but x has 256",
         *       "field": "fc2"
         *     }
         */
        Problem: {
            /** @description `/docs/problems#<kind>`: the kind of problem, explained on that page. */
            type: string;
            title: string;
            status: number;
            /** @description What went wrong, in words meant for you. */
            detail: string;
            /** @description The request field, form field or file at fault ("(body)" for the body). */
            field?: string;
            /** @description Every validation error, when there were several. */
            errors?: {
                field: string;
                message: string;
            }[];
        };
        /**
         * @description An analysis: the job's fields, then (once done) the result.
         * @example {
         *       "id": "0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b",
         *       "kind": "analysis",
         *       "label": "mnist mlp",
         *       "status": "done",
         *       "created_at": "2025-05-01T10:00:00.000Z",
         *       "updated_at": "2025-05-01T10:00:00.400Z",
         *       "started_at": "2025-05-01T10:00:00.010Z",
         *       "finished_at": "2025-05-01T10:00:00.400Z",
         *       "attempts": 1,
         *       "max_attempts": 1,
         *       "worker": "api",
         *       "heartbeat_at": "2025-05-01T10:00:00.010Z",
         *       "heartbeat_age_s": null,
         *       "error": null,
         *       "progress": {
         *         "done": 1,
         *         "total": 1,
         *         "fraction": 1,
         *         "elapsed_s": 0.39,
         *         "eta_s": 0
         *       },
         *       "m": 512,
         *       "estimator": {
         *         "kernel": "gaussian",
         *         "distance": "squared",
         *         "sigma": 5,
         *         "eps": 0.00001,
         *         "centring": "right",
         *         "label_kernel": "linear",
         *         "label_centring": "none",
         *         "batch_size": null,
         *         "batches": 1,
         *         "samples_used": 512
         *       },
         *       "options": {
         *         "measures": [
         *           "nhsic",
         *           "cka_linear"
         *         ],
         *         "measure_options": {
         *           "bins": 30,
         *           "noise_variance": 0.001
         *         },
         *         "similarity": [],
         *         "sweep": null
         *       },
         *       "num_classes": 10,
         *       "reference": {
         *         "nhsic_x_x": 0.93,
         *         "nhsic_y_y": 0.88
         *       },
         *       "checkpoints": [
         *         {
         *           "step": 600,
         *           "layers": [
         *             {
         *               "name": "fc1",
         *               "nhsic_x": 0.61,
         *               "nhsic_y": 0.42,
         *               "nhsic_x_norm": 0.66,
         *               "nhsic_y_norm": 0.48,
         *               "cka_x": 0.71,
         *               "cka_y": 0.35
         *             }
         *           ]
         *         }
         *       ],
         *       "summary": {
         *         "dynamics": false,
         *         "note": "one checkpoint: the summaries describe the depth profile only",
         *         "checkpoints": 1,
         *         "first_step": 600,
         *         "last_step": 600,
         *         "thresholds": {
         *           "compression": 0.05,
         *           "label_retention": 0.9
         *         },
         *         "layers": [
         *           {
         *             "name": "fc1",
         *             "final_x": 0.66,
         *             "final_y": 0.48,
         *             "peak_x": null,
         *             "peak_step": null,
         *             "compression": null,
         *             "label_retention": null,
         *             "fitting": null,
         *             "follows_ib": null
         *           }
         *         ],
         *         "differentiation": null,
         *         "last_layer": {
         *           "name": "fc1",
         *           "follows_ib": null,
         *           "compression": null,
         *           "label_retention": null,
         *           "peak_step": null,
         *           "final_x": 0.66,
         *           "final_y": 0.48
         *         },
         *         "depth_profile": [
         *           {
         *             "name": "fc1",
         *             "x": 0.66,
         *             "y": 0.48
         *           }
         *         ]
         *       },
         *       "compute": {
         *         "linalg": "openblas",
         *         "seconds": 0.38
         *       },
         *       "links": {
         *         "self": "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b",
         *         "csv": "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b.csv",
         *         "events": "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b/events",
         *         "view": "/ui/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b",
         *         "share": "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b/links",
         *         "charts": {
         *           "depth-profile": "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b/charts/depth-profile.json"
         *         }
         *       }
         *     }
         */
        Analysis: {
            /** @description UUID v7 (time-ordered). */
            id: string;
            /** @enum {string} */
            kind: "analysis" | "training" | "experiment";
            label: string | null;
            /** @enum {string} */
            status: "queued" | "running" | "done" | "failed" | "cancelled";
            /**
             * Format: date-time
             * @description When the job was created.
             */
            created_at: string;
            /**
             * Format: date-time
             * @description Last change of the record.
             */
            updated_at: string;
            /**
             * Format: date-time
             * @description When the current attempt started.
             */
            started_at: string | null;
            /**
             * Format: date-time
             * @description When the job finished.
             */
            finished_at: string | null;
            /** @description Starts so far; a job whose worker died restarts from the beginning. */
            attempts: number;
            max_attempts: number;
            /** @description "embedded", "api" (inline analyses) or the worker "host:pid". */
            worker: string | null;
            /**
             * Format: date-time
             * @description Last sign of life of the worker running the job.
             */
            heartbeat_at: string | null;
            /** @description Seconds since that sign of life, while the job runs: a large value means its worker is gone; the job is taken over when a worker is back. */
            heartbeat_age_s: number | null;
            error: components["schemas"]["JobError"] | null;
            progress: components["schemas"]["AnalysisProgress"] | null;
            /** @description Samples. */
            m: number;
            num_classes?: number;
            /** @description The estimator settings (with what they used, once done). */
            estimator: {
                /**
                 * @description Kernel on X and T.
                 * @enum {string}
                 */
                kernel: "gaussian" | "linear";
                /**
                 * @description Distance inside the Gaussian.
                 * @enum {string}
                 */
                distance: "squared" | "plain";
                /** @description Gaussian width, scaled by sqrt(d), or "median" (median heuristic). */
                sigma: number | "median";
                /** @description Regulariser: eps * m is added to the diagonal. */
                eps: number;
                /**
                 * @description Centring of the X and T kernels.
                 * @enum {string}
                 */
                centring: "right" | "both" | "none";
                /**
                 * @description Kernel on labels.
                 * @enum {string}
                 */
                label_kernel: "linear" | "gaussian";
                /**
                 * @description Centring of the label kernel.
                 * @enum {string}
                 */
                label_centring: "right" | "both" | "none";
                /** @description Batch size averaged over, or null for the exact estimate on all m. */
                batch_size: number | null;
                /** @description Batches averaged over (once done). */
                batches?: number;
                /** @description Samples used (once done). */
                samples_used?: number;
            };
            reference?: components["schemas"]["Reference"];
            checkpoints?: components["schemas"]["CheckpointResult"][];
            summary?: components["schemas"]["Summary"];
            measures?: components["schemas"]["MeasuresRecord"];
            similarity?: components["schemas"]["SimilarityMap"][];
            checkpoint_similarity?: components["schemas"]["CheckpointSimilarity"][];
            sweep?: components["schemas"]["SweepEntry"][];
            robustness?: components["schemas"]["Robustness"];
            compute?: {
                /** @description "openblas" or "portable". */
                linalg: string;
                seconds: number;
            };
            options: components["schemas"]["AnalysisOptions"];
            links: components["schemas"]["ResultLinks"];
        };
        AnalysisProgress: {
            done: number;
            total: number;
            /** @description Share of the work done, 0 to 1. */
            fraction: number;
            /** @description Seconds since this attempt started. */
            elapsed_s: number;
            /** @description Estimated seconds left; null until there is a basis. */
            eta_s: number | null;
        };
        Reference: {
            /** @description nHSIC(X;X): the normaliser of nhsic_x. */
            nhsic_x_x: number;
            /** @description nHSIC(Y;Y): the normaliser of nhsic_y. */
            nhsic_y_y: number;
        };
        CheckpointResult: {
            /** @description The checkpoint's step (its index when the dump named checkpoints). */
            step: number;
            /** @description The checkpoint's name when the dump named it (`epoch1/fc1`). */
            name?: string;
            layers: components["schemas"]["LayerResult"][];
        };
        LayerResult: {
            name: string;
            /** @description nHSIC(X;T). */
            nhsic_x: number;
            /** @description nHSIC(Y;T). */
            nhsic_y: number;
            /** @description nhsic_x / nHSIC(X;X). */
            nhsic_x_norm: number;
            /** @description nhsic_y / nHSIC(Y;Y). */
            nhsic_y_norm: number;
            /** @description Linear CKA against X. */
            cka_x: number;
            /** @description Linear CKA against one-hot Y. */
            cka_y: number;
            /** @description Biased HSIC against X (measure `hsic`). */
            hsic_x?: number;
            /** @description Biased HSIC against Y (measure `hsic`). */
            hsic_y?: number;
            /** @description CKA with Gaussian kernels against X (`cka_gaussian`). */
            cka_gaussian_x?: number;
            /** @description CKA with Gaussian kernels against Y (`cka_gaussian`). */
            cka_gaussian_y?: number;
            /** @description Debiased linear CKA against X (`cka_debiased`). */
            cka_debiased_x?: number;
            /** @description Debiased linear CKA against Y (`cka_debiased`). */
            cka_debiased_y?: number;
            /** @description Binned mutual information with X, bits (`mi_binning`). */
            mi_binning_x?: number;
            /** @description Binned mutual information with Y, bits (`mi_binning`). */
            mi_binning_y?: number;
            /** @description KDE upper bound on mutual information with X, bits (`mi_kde`). */
            mi_kde_x?: number;
            /** @description KDE upper bound on mutual information with Y, bits (`mi_kde`). */
            mi_kde_y?: number;
        };
        /** @description Layer differentiation and information-bottleneck measures (docs/metrics.md). */
        Summary: {
            /** @description False with a single checkpoint: only the depth profile is meaningful. */
            dynamics: boolean;
            note: string | null;
            checkpoints: number;
            first_step: number;
            last_step: number;
            thresholds: {
                /** @description Minimum compression (in units of nHSIC(X;X)). */
                compression: number;
                /** @description Minimum label retention (fraction of the layer's own peak). */
                label_retention: number;
            };
            layers: components["schemas"]["LayerSummary"][];
            differentiation: {
                /** @description Population standard deviation of compression over layers. */
                score: number;
                mean_compression: number;
                components: {
                    name: string;
                    compression: number;
                }[];
            } | null;
            /** @description The last layer's information-bottleneck verdict. */
            last_layer: {
                name: string;
                follows_ib: boolean | null;
                compression: number | null;
                label_retention: number | null;
                peak_step: number | null;
                final_x: number;
                final_y: number;
            };
            /** @description Final normalised values by depth. */
            depth_profile: {
                name: string;
                x: number;
                y: number;
            }[];
        };
        LayerSummary: {
            name: string;
            /** @description nHSIC(X;T)/nHSIC(X;X) at the last checkpoint. */
            final_x: number;
            /** @description nHSIC(Y;T)/nHSIC(Y;Y) at the last checkpoint. */
            final_y: number;
            /** @description Largest normalised nHSIC(X;T) over checkpoints (null: one checkpoint). */
            peak_x: number | null;
            /** @description Step of the first checkpoint where it peaks. */
            peak_step: number | null;
            /** @description peak_x - final_x. */
            compression: number | null;
            /** @description final_y / the largest normalised nHSIC(Y;T). */
            label_retention: number | null;
            /** @description final_y - the first checkpoint's normalised nHSIC(Y;T). */
            fitting: number | null;
            /** @description Compression and retention over their thresholds, peak before the end. */
            follows_ib: boolean | null;
        };
        /** @description What was measured beyond nHSIC and linear CKA (present when asked for). */
        MeasuresRecord: {
            names: ("nhsic" | "hsic" | "cka_linear" | "cka_gaussian" | "cka_debiased" | "mi_binning" | "mi_kde")[];
            /** @description mi_binning's bins. */
            bins?: number;
            /** @description mi_kde's noise variance. */
            noise_variance?: number;
            similarity?: ("cka_linear" | "cka_debiased" | "nhsic" | "cka_gaussian" | "hsic")[];
        };
        SimilarityMap: {
            step: number;
            name?: string;
            /** @enum {string} */
            measure: "cka_linear" | "cka_debiased" | "nhsic" | "cka_gaussian" | "hsic";
            /** @description Rows and columns: "x", then the layers in depth order. */
            layers: string[];
            /** @description Symmetric (L+1) x (L+1). */
            matrix: number[][];
        };
        CheckpointSimilarity: {
            layer: string;
            /** @enum {string} */
            measure: "cka_linear" | "cka_debiased" | "nhsic" | "cka_gaussian" | "hsic";
            steps: number[];
            names?: string[];
            /** @description Symmetric C x C. */
            matrix: number[][];
        };
        SweepEntry: {
            estimator: components["schemas"]["EstimatorUsed"];
            reference: components["schemas"]["Reference"];
            checkpoints: {
                step: number;
                name?: string;
                layers: components["schemas"]["SweepLayer"][];
            }[];
            summary: components["schemas"]["Summary"];
        };
        EstimatorUsed: {
            /**
             * @description Kernel on X and T.
             * @enum {string}
             */
            kernel: "gaussian" | "linear";
            /**
             * @description Distance inside the Gaussian.
             * @enum {string}
             */
            distance: "squared" | "plain";
            /** @description Gaussian width, scaled by sqrt(d), or "median" (median heuristic). */
            sigma: number | "median";
            /** @description Regulariser: eps * m is added to the diagonal. */
            eps: number;
            /**
             * @description Centring of the X and T kernels.
             * @enum {string}
             */
            centring: "right" | "both" | "none";
            /**
             * @description Kernel on labels.
             * @enum {string}
             */
            label_kernel: "linear" | "gaussian";
            /**
             * @description Centring of the label kernel.
             * @enum {string}
             */
            label_centring: "right" | "both" | "none";
            /** @description Batch size averaged over, or null for the exact estimate on all m. */
            batch_size: number | null;
            /** @description Batches averaged over. */
            batches: number;
            /** @description Samples used (m, or the batches' total). */
            samples_used: number;
        };
        SweepLayer: {
            name: string;
            nhsic_x: number;
            nhsic_y: number;
            nhsic_x_norm: number;
            nhsic_y_norm: number;
            cka_x: number;
            cka_y: number;
        };
        Robustness: {
            /** @description Settings compared. */
            settings: number;
            thresholds: {
                robust: number;
                absent: number;
            };
            note: string | null;
            conclusions: {
                /** @enum {string} */
                kind: "compression" | "follows_ib";
                layer: string;
                statement: string;
                baseline: boolean | null;
                holds: number;
                fraction: number;
                /** @enum {string} */
                verdict: "robust" | "depends on the estimator" | "absent";
            }[];
        };
        /** @description Measures, similarity maps and sweep an analysis asked for (defaults filled in). */
        AnalysisOptions: {
            measures: ("nhsic" | "hsic" | "cka_linear" | "cka_gaussian" | "cka_debiased" | "mi_binning" | "mi_kde")[];
            measure_options: {
                bins: number;
                noise_variance: number;
            };
            similarity: ("cka_linear" | "cka_debiased" | "nhsic" | "cka_gaussian" | "hsic")[];
            /** @description Estimator values to sweep; every combination is analysed (at most 64); the other estimator settings come from the request's estimator. */
            sweep: {
                kernel?: ("gaussian" | "linear")[];
                sigma?: (number | "median")[];
                distance?: ("squared" | "plain")[];
                eps?: number[];
                batch_size?: (number | null)[];
            } | null;
        };
        ResultLinks: {
            self: string;
            csv?: string;
            events: string;
            cancel?: string;
            report_md?: string;
            report_html?: string;
            /** @description The result's page in the viewer; add `?embed=1` for a frame. */
            view: string;
            /** @description POST here for an expiring share link that opens the result without the key. */
            share: string;
            /** @description Chart name -> URL of its Vega-Lite spec (json). The same URL ending in .svg or .png is the service's rendering; `/ui/{kind}/{id}/charts/{name}` is its page. Charts answer once the result is done. */
            charts: {
                [key: string]: string;
            };
        };
        /** @description Either a field `dump` with an .npz archive (keys x, y, `<layer>` or `<step>/<layer>`), or fields `x`, `y` and one field per layer (named `<layer>` or `<step>/<layer>`), each an .npy or CSV file. The text fields hold JSON as in the JSON form; `label` is plain text. */
        MultipartDump: {
            /**
             * Format: binary
             * @description An .npz archive with arrays x, y, then `<layer>` or `<step>/<layer>` (instead of x, y and a field per layer).
             */
            dump?: Blob;
            /**
             * Format: binary
             * @description Inputs as .npy or CSV (with y and a field per layer, instead of `dump`).
             */
            x?: Blob;
            /**
             * Format: binary
             * @description Labels as .npy or CSV: class indices or one-hot rows.
             */
            y?: Blob;
            /** @description Estimator settings, as the `Estimator` schema (JSON text) */
            estimator?: string;
            /** @description Per-layer measures, e.g. ["nhsic", "cka_debiased"] (JSON text) */
            measures?: string;
            /** @description Options of the information measures, e.g. {"bins": 30} (JSON text) */
            measure_options?: string;
            /** @description Similarity maps, e.g. ["cka_linear"] (JSON text) */
            similarity?: string;
            /** @description Estimator values to sweep, e.g. {"sigma": [1, 5, "median"]} (JSON text) */
            sweep?: string;
            /** @description Free text (plain, not JSON). */
            label?: string;
        } & {
            [key: string]: Blob | string;
        };
        /**
         * @example {
         *       "x": [
         *         [
         *           0.1,
         *           0.2
         *         ],
         *         [
         *           0.3,
         *           0.1
         *         ],
         *         [
         *           0.9,
         *           0.8
         *         ],
         *         [
         *           0.7,
         *           0.9
         *         ]
         *       ],
         *       "y": [
         *         0,
         *         0,
         *         1,
         *         1
         *       ],
         *       "layers": {
         *         "fc1": [
         *           [
         *             0.5
         *           ],
         *           [
         *             0.4
         *           ],
         *           [
         *             0.1
         *           ],
         *           [
         *             0.2
         *           ]
         *         ],
         *         "out": [
         *           [
         *             1,
         *             0
         *           ],
         *           [
         *             1,
         *             0
         *           ],
         *           [
         *             0,
         *             1
         *           ],
         *           [
         *             0,
         *             1
         *           ]
         *         ]
         *       },
         *       "estimator": {
         *         "sigma": "median"
         *       },
         *       "label": "toy"
         *     }
         */
        JsonDump: {
            /** @description Inputs, m x ... (flattened per sample). */
            x: unknown[];
            /** @description Labels: m class indices or m x C one-hot rows. */
            y: unknown[];
            /** @description Activations per layer: one nested array (m x ...) per layer name, in depth order. */
            layers?: {
                [key: string]: unknown[];
            };
            /** @description Several checkpoints (instead of `layers`): the same inputs at each step. */
            checkpoints?: {
                step: number;
                /** @description Activations per layer: one nested array (m x ...) per layer name, in depth order. */
                layers: {
                    [key: string]: unknown[];
                };
            }[];
            estimator?: components["schemas"]["Estimator"];
            /** @description Free text to find the job by (listing filter `label`), at most 200 characters. */
            label?: string;
            /** @description Per-layer measures; default ["nhsic", "cka_linear"]. Each adds <measure>_x and <measure>_y to every layer (nhsic and cka_linear are always reported as nhsic_x/_y and cka_x/_y). */
            measures?: ("nhsic" | "hsic" | "cka_linear" | "cka_gaussian" | "cka_debiased" | "mi_binning" | "mi_kde")[];
            measure_options?: {
                /** @description mi_binning: equal-width bins per activation over the layer's range (default 30). */
                bins?: number;
                /** @description mi_kde: variance of the Gaussian noise added to the activations (default 1e-3). */
                noise_variance?: number;
            };
            /** @description Layer-by-layer similarity maps per checkpoint (rows x, the layers, the last layer), and checkpoint-by-checkpoint maps per layer when there are several checkpoints. */
            similarity?: ("cka_linear" | "cka_debiased" | "nhsic" | "cka_gaussian" | "hsic")[];
            /** @description Estimator values to sweep; every combination is analysed (at most 64); the other estimator settings come from the request's estimator. */
            sweep?: {
                kernel?: ("gaussian" | "linear")[];
                sigma?: (number | "median")[];
                distance?: ("squared" | "plain")[];
                eps?: number[];
                batch_size?: (number | null)[];
            };
        };
        /**
         * @example {
         *       "kernel": "gaussian",
         *       "sigma": 5,
         *       "eps": 0.00001,
         *       "batch_size": null
         *     }
         */
        Estimator: {
            /**
             * @description Kernel on X and T.
             * @enum {string}
             */
            kernel?: "gaussian" | "linear";
            /**
             * @description Distance in the Gaussian: squared (default) or the plain distance of early code.
             * @enum {string}
             */
            distance?: "squared" | "plain";
            /** @description Gaussian width, scaled by sqrt(d); or "median" for the median heuristic. */
            sigma?: number | "median";
            /** @description Regulariser: eps * m is added to the diagonal. */
            eps?: number;
            /**
             * @description Centring of X and T kernels.
             * @enum {string}
             */
            centring?: "right" | "both" | "none";
            /** @enum {string} */
            label_kernel?: "linear" | "gaussian";
            /** @enum {string} */
            label_centring?: "right" | "both" | "none";
            /** @description Average over consecutive batches of this size (at most m); null = exact on all m. */
            batch_size?: number | null;
        };
        /** @description A training job: the job's fields, the resolved request and (once done) the result. */
        Training: {
            /** @description UUID v7 (time-ordered). */
            id: string;
            /** @enum {string} */
            kind: "analysis" | "training" | "experiment";
            label: string | null;
            /** @enum {string} */
            status: "queued" | "running" | "done" | "failed" | "cancelled";
            /**
             * Format: date-time
             * @description When the job was created.
             */
            created_at: string;
            /**
             * Format: date-time
             * @description Last change of the record.
             */
            updated_at: string;
            /**
             * Format: date-time
             * @description When the current attempt started.
             */
            started_at: string | null;
            /**
             * Format: date-time
             * @description When the job finished.
             */
            finished_at: string | null;
            /** @description Starts so far; a job whose worker died restarts from the beginning. */
            attempts: number;
            max_attempts: number;
            /** @description "embedded", "api" (inline analyses) or the worker "host:pid". */
            worker: string | null;
            /**
             * Format: date-time
             * @description Last sign of life of the worker running the job.
             */
            heartbeat_at: string | null;
            /** @description Seconds since that sign of life, while the job runs: a large value means its worker is gone; the job is taken over when a worker is back. */
            heartbeat_age_s: number | null;
            error: components["schemas"]["JobError"] | null;
            progress: components["schemas"]["TrainingProgress"] | null;
            job: components["schemas"]["TrainingJob"];
            result?: components["schemas"]["TrainingResult"];
            links: components["schemas"]["ResultLinks"];
        };
        TrainingProgress: {
            /** @description The method running now. */
            method: string | null;
            methods_done: number;
            methods_total: number;
            /** @description Epoch of the running method (fractional within an epoch), at most `epochs`. */
            epoch: number;
            /** @description Epochs the running method takes (stages x epochs for sequential training). */
            epochs: number;
            step: number;
            loss: number | null;
            test_accuracy: number | null;
            /** @description Share of the work done, 0 to 1. */
            fraction: number;
            /** @description Seconds since this attempt started. */
            elapsed_s: number;
            /** @description Estimated seconds left; null until there is a basis. */
            eta_s: number | null;
        };
        /** @description The resolved job: defaults filled in, presets expanded, methods labelled. */
        TrainingJob: {
            model: components["schemas"]["ModelDefinition"];
            dataset: components["schemas"]["DatasetSpec"];
            methods: (components["schemas"]["Method"] & {
                /** @description Always set once the job is resolved. */
                label?: string;
            })[];
            optimizer: components["schemas"]["Optimizer"];
            tracking: components["schemas"]["Tracking"];
            seed: number;
            backend: ("tensorflow" | "webgpu" | "native" | "wasm" | "cpu") | "auto";
        };
        /** @description The network as blocks of layers (presets expanded); a linear classifier to the classes is appended and tracked as "logits". */
        ModelDefinition: {
            blocks: ({
                /** @enum {string} */
                type: "layers";
                name?: string;
                layers: ({
                    /** @enum {string} */
                    type: "dense";
                    units: number;
                } | {
                    /** @enum {string} */
                    type: "conv2d";
                    filters: number;
                    kernel: number;
                    /** @default 1 */
                    stride: number;
                    /**
                     * @default same
                     * @enum {string}
                     */
                    padding: "same" | "valid";
                } | {
                    /** @enum {string} */
                    type: "maxPool2d";
                    size: number;
                    stride?: number;
                } | {
                    /** @enum {string} */
                    type: "avgPool2d";
                    size: number;
                    stride?: number;
                } | {
                    /** @enum {string} */
                    type: "flatten";
                } | {
                    /** @enum {string} */
                    type: "batchNorm";
                } | {
                    /** @enum {string} */
                    type: "dropout";
                    rate: number;
                } | {
                    /** @enum {string} */
                    type: "relu";
                } | {
                    /** @enum {string} */
                    type: "tanh";
                } | {
                    /** @enum {string} */
                    type: "sigmoid";
                } | {
                    /** @enum {string} */
                    type: "leakyRelu";
                    /** @default 0.01 */
                    alpha: number;
                })[];
            } | {
                /** @enum {string} */
                type: "residual";
                name?: string;
                filters: number;
                /** @default 1 */
                stride: number;
            })[];
            /**
             * @default flatten
             * @enum {string}
             */
            classifier_pool: "flatten" | "global_avg";
        };
        DatasetSpec: {
            /** @enum {string} */
            name: "mnist" | "fashion-mnist" | "cifar10";
            train_limit?: number;
            test_limit?: number;
            dir?: string;
        } | {
            /** @enum {string} */
            name: "upload";
            /** @description "(uploaded)" in API answers. */
            path: string;
            train_limit?: number;
            test_limit?: number;
        };
        Method: {
            /** @enum {string} */
            name: "e2e" | "layerwise" | "sequential";
            /** @enum {string} */
            head?: "linear" | "mlp" | "conv";
            /** @enum {string} */
            loss?: "cross_entropy" | "similarity" | "supervised_contrastive";
            nhsic_lambda?: number;
            /** @enum {string} */
            nhsic_target?: "global" | "local";
            /** @enum {string} */
            nhsic_on?: "block" | "head";
            label: string;
        };
        Optimizer: {
            lr: number;
            weight_decay: number;
            epochs: number;
            batch_size: number;
        };
        Tracking: {
            /** @description Probe samples drawn from the test split. */
            probe_size: number;
            /** @description nHSIC batch size on the probe. */
            probe_batch: number;
            /** @description Extra tracking points inside the first epoch. */
            first_epoch_points: number;
            linear_probe: boolean;
            estimator: components["schemas"]["EstimatorConfig"];
        };
        /** @description The estimator settings a result was computed with (docs/metrics.md). */
        EstimatorConfig: {
            /**
             * @description Kernel on X and T.
             * @enum {string}
             */
            kernel: "gaussian" | "linear";
            /**
             * @description Distance inside the Gaussian.
             * @enum {string}
             */
            distance: "squared" | "plain";
            /** @description Gaussian width, scaled by sqrt(d), or "median" (median heuristic). */
            sigma: number | "median";
            /** @description Regulariser: eps * m is added to the diagonal. */
            eps: number;
            /**
             * @description Centring of the X and T kernels.
             * @enum {string}
             */
            centring: "right" | "both" | "none";
            /**
             * @description Kernel on labels.
             * @enum {string}
             */
            label_kernel: "linear" | "gaussian";
            /**
             * @description Centring of the label kernel.
             * @enum {string}
             */
            label_centring: "right" | "both" | "none";
            /** @description Batch size averaged over, or null for the exact estimate on all m. */
            batch_size: number | null;
        };
        /** @description What a training job produced: per method its curves and nHSIC analysis. */
        TrainingResult: {
            backend: {
                /** @enum {string} */
                name: "tensorflow" | "webgpu" | "native" | "wasm" | "cpu";
                device: string;
            };
            dataset: {
                name: string;
                train: number;
                test: number;
                shape: number[];
                num_classes: number;
            };
            model: components["schemas"]["ModelDefinition"];
            optimizer: components["schemas"]["Optimizer"];
            tracking: components["schemas"]["Tracking"];
            seed: number;
            methods: components["schemas"]["MethodResult"][];
            seconds: number;
        };
        MethodResult: {
            method: components["schemas"]["Method"];
            curves: components["schemas"]["CurvePoint"][];
            analysis: components["schemas"]["AnalysisResult"];
            final_test_accuracy: number;
            seconds: number;
        };
        CurvePoint: {
            epoch: number;
            step: number;
            train_loss: number;
            train_accuracy: number;
            test_accuracy: number;
            /** @description Running mean of the method's own objective (absent at step 0). */
            objective?: number;
            /** @description Per-layer linear-probe accuracy (tracking.linear_probe). */
            probe_accuracy?: {
                [key: string]: number;
            };
        };
        /** @description The nHSIC table of a dump with its summaries (lib/analysis.ts AnalysisOutput). */
        AnalysisResult: {
            /** @description Samples. */
            m: number;
            num_classes: number;
            estimator: components["schemas"]["EstimatorUsed"];
            reference: components["schemas"]["Reference"];
            checkpoints: components["schemas"]["CheckpointResult"][];
            summary: components["schemas"]["Summary"];
            measures?: components["schemas"]["MeasuresRecord"];
            similarity?: components["schemas"]["SimilarityMap"][];
            checkpoint_similarity?: components["schemas"]["CheckpointSimilarity"][];
            sweep?: components["schemas"]["SweepEntry"][];
            robustness?: components["schemas"]["Robustness"];
            compute: {
                /** @description "openblas" or "portable". */
                linalg: string;
                seconds: number;
            };
        };
        TrainingRequest: {
            /** @description A preset ({"preset": "mlp" | "lenet5" | "vgg-small" | "resnet-small", ...}) or a full definition ({blocks: [...]}); default the mlp preset. */
            model?: {
                /** @enum {string} */
                preset: "mlp";
                /** @default 4 */
                depth: number;
                /** @default 256 */
                width: number;
                /**
                 * @default relu
                 * @enum {string}
                 */
                activation: "relu" | "tanh" | "sigmoid" | "leakyRelu";
            } | {
                /** @enum {string} */
                preset: "lenet5";
                /** @default 1 */
                width: number;
            } | {
                /** @enum {string} */
                preset: "vgg-small";
                /** @default 0.25 */
                width: number;
            } | {
                /** @enum {string} */
                preset: "resnet-small";
                /** @default 0.25 */
                width: number;
                /** @default 1 */
                depth: number;
            } | {
                blocks: ({
                    /** @enum {string} */
                    type: "layers";
                    name?: string;
                    layers: ({
                        /** @enum {string} */
                        type: "dense";
                        units: number;
                    } | {
                        /** @enum {string} */
                        type: "conv2d";
                        filters: number;
                        kernel: number;
                        /** @default 1 */
                        stride: number;
                        /**
                         * @default same
                         * @enum {string}
                         */
                        padding: "same" | "valid";
                    } | {
                        /** @enum {string} */
                        type: "maxPool2d";
                        size: number;
                        stride?: number;
                    } | {
                        /** @enum {string} */
                        type: "avgPool2d";
                        size: number;
                        stride?: number;
                    } | {
                        /** @enum {string} */
                        type: "flatten";
                    } | {
                        /** @enum {string} */
                        type: "batchNorm";
                    } | {
                        /** @enum {string} */
                        type: "dropout";
                        rate: number;
                    } | {
                        /** @enum {string} */
                        type: "relu";
                    } | {
                        /** @enum {string} */
                        type: "tanh";
                    } | {
                        /** @enum {string} */
                        type: "sigmoid";
                    } | {
                        /** @enum {string} */
                        type: "leakyRelu";
                        /** @default 0.01 */
                        alpha: number;
                    })[];
                } | {
                    /** @enum {string} */
                    type: "residual";
                    name?: string;
                    filters: number;
                    /** @default 1 */
                    stride: number;
                })[];
                /**
                 * @default flatten
                 * @enum {string}
                 */
                classifier_pool: "flatten" | "global_avg";
            };
            dataset: {
                /** @enum {string} */
                name: "mnist" | "fashion-mnist" | "cifar10";
                train_limit?: number;
                test_limit?: number;
                dir?: string;
            } | {
                /** @enum {string} */
                name: "upload";
                path: string;
                train_limit?: number;
                test_limit?: number;
            };
            /** @description Methods to compare on the same architecture and seed; default [{"name": "e2e"}, {"name": "layerwise"}]. */
            methods?: {
                /** @enum {string} */
                name: "e2e" | "layerwise" | "sequential";
                /** @enum {string} */
                head?: "linear" | "mlp" | "conv";
                /** @enum {string} */
                loss?: "cross_entropy" | "similarity" | "supervised_contrastive";
                nhsic_lambda?: number;
                /** @enum {string} */
                nhsic_target?: "global" | "local";
                /** @enum {string} */
                nhsic_on?: "block" | "head";
                label?: string;
            }[];
            optimizer?: {
                lr?: number;
                weight_decay?: number;
                epochs?: number;
                batch_size?: number;
            };
            tracking?: {
                probe_size?: number;
                probe_batch?: number;
                first_epoch_points?: number;
                linear_probe?: boolean;
                estimator?: {
                    /** @enum {string} */
                    kernel?: "gaussian" | "linear";
                    /** @enum {string} */
                    distance?: "squared" | "plain";
                    sigma?: number | "median";
                    eps?: number;
                    /** @enum {string} */
                    centring?: "right" | "both" | "none";
                    /** @enum {string} */
                    label_kernel?: "linear" | "gaussian";
                    /** @enum {string} */
                    label_centring?: "right" | "both" | "none";
                };
            };
            seed?: number;
            /** @enum {string} */
            backend?: "auto" | "tensorflow" | "webgpu" | "native" | "wasm" | "cpu";
            /** @description Free text to find the job by (listing filter `label`), at most 200 characters. */
            label?: string;
        };
        /** @description A training request with your own data: fields `request` and `dataset`. */
        TrainingMultipart: {
            /** @description The training request as JSON text (the `TrainingRequest` schema); its `dataset` may be omitted, or `{"name": "upload", "train_limit": n, "test_limit": n}`. */
            request: string;
            /**
             * Format: binary
             * @description An .npz file with arrays x (samples) and y (class indices), optionally x_test and y_test.
             */
            dataset: Blob;
        };
        ExperimentCatalogue: {
            experiments: {
                name: string;
                title: string;
                question: string;
                claims: number[];
                scales: {
                    [key: string]: {
                        runs: number;
                        method_trainings: number;
                        seeds: number[];
                        settings: string[];
                    };
                };
            }[];
            claims: {
                number: number;
                title: string;
                claim: string;
            }[];
        };
        /** @description An experiment suite: the job's fields and (once done) verdicts and results. */
        Experiment: {
            /** @description UUID v7 (time-ordered). */
            id: string;
            /** @enum {string} */
            kind: "analysis" | "training" | "experiment";
            label: string | null;
            /** @enum {string} */
            status: "queued" | "running" | "done" | "failed" | "cancelled";
            /**
             * Format: date-time
             * @description When the job was created.
             */
            created_at: string;
            /**
             * Format: date-time
             * @description Last change of the record.
             */
            updated_at: string;
            /**
             * Format: date-time
             * @description When the current attempt started.
             */
            started_at: string | null;
            /**
             * Format: date-time
             * @description When the job finished.
             */
            finished_at: string | null;
            /** @description Starts so far; a job whose worker died restarts from the beginning. */
            attempts: number;
            max_attempts: number;
            /** @description "embedded", "api" (inline analyses) or the worker "host:pid". */
            worker: string | null;
            /**
             * Format: date-time
             * @description Last sign of life of the worker running the job.
             */
            heartbeat_at: string | null;
            /** @description Seconds since that sign of life, while the job runs: a large value means its worker is gone; the job is taken over when a worker is back. */
            heartbeat_age_s: number | null;
            error: components["schemas"]["JobError"] | null;
            request: {
                names: ("accuracy-vs-depth" | "information-dynamics" | "toy" | "nhsic-regularised" | "entanglement")[];
                /** @enum {string} */
                scale: "micro" | "cpu" | "long" | "full";
                backend: string;
            };
            /** @description Training runs (configuration x seed). */
            runs: number;
            /** @description Method trainings done / total, the method running now (labelled `<run key> · <method>`), its epoch, step and accuracy. */
            progress: components["schemas"]["TrainingProgress"] | null;
            /** @description Once done: the verdict on each of the paper's claims. */
            verdicts?: {
                number: number;
                title: string;
                verdict: string;
                parts: {
                    id: string;
                    holds: boolean | null;
                }[];
            }[];
            result?: components["schemas"]["SuiteResult"];
            links: components["schemas"]["ResultLinks"];
        };
        /** @description A finished suite's structured results (what `deno task experiments` writes). */
        SuiteResult: {
            /** @enum {string} */
            kind: "infoplane-experiment-suite";
            /** @enum {number} */
            version: 1;
            /** @enum {string} */
            scale: "micro" | "cpu" | "long" | "full";
            names: ("accuracy-vs-depth" | "information-dynamics" | "toy" | "nhsic-regularised" | "entanglement")[];
            command: string;
            backend: {
                name: string;
                device: string;
            };
            linalg: string;
            environment: {
                deno: string;
                os: string;
                cpus: number | null;
                load?: {
                    start: number;
                    end: number;
                    mean: number;
                    samples: number;
                };
            };
            datasets: {
                name: string;
                source: string;
                md5_verified: boolean;
            }[];
            concurrency: number;
            failures: {
                key: string;
                /** @enum {string} */
                experiment: "accuracy-vs-depth" | "information-dynamics" | "toy" | "nhsic-regularised" | "entanglement";
                message: string;
            }[];
            /**
             * Format: date-time
             * @description Start.
             */
            started_at: string;
            /**
             * Format: date-time
             * @description End.
             */
            finished_at: string;
            wall_seconds: number;
            resumed?: {
                runs: number;
                run_seconds: number;
                earlier_wall_seconds: number;
            };
            experiments: components["schemas"]["ExperimentResult"][];
        };
        ExperimentResult: {
            /** @enum {string} */
            name: "accuracy-vs-depth" | "information-dynamics" | "toy" | "nhsic-regularised" | "entanglement";
            title: string;
            question: string;
            claims: number[];
            /** @enum {string} */
            scale: "micro" | "cpu" | "long" | "full";
            settings: {
                description: string[];
                seeds: number[];
                /** @description The requests of one seed's runs. */
                requests: components["schemas"]["TrainingRequestSpec"][];
            };
            seeds: number[];
            runs: components["schemas"]["RunRecord"][];
            /** @description Aggregates over seeds per group and method; the shape depends on the experiment. */
            summary: {
                [key: string]: unknown;
            };
            /**
             * Format: date-time
             * @description Start.
             */
            started_at: string;
            /**
             * Format: date-time
             * @description End.
             */
            finished_at: string;
            wall_seconds: number;
        };
        TrainingRequestSpec: {
            /** @description A preset ({"preset": "mlp" | "lenet5" | "vgg-small" | "resnet-small", ...}) or a full definition ({blocks: [...]}); default the mlp preset. */
            model?: {
                /** @enum {string} */
                preset: "mlp";
                /** @default 4 */
                depth: number;
                /** @default 256 */
                width: number;
                /**
                 * @default relu
                 * @enum {string}
                 */
                activation: "relu" | "tanh" | "sigmoid" | "leakyRelu";
            } | {
                /** @enum {string} */
                preset: "lenet5";
                /** @default 1 */
                width: number;
            } | {
                /** @enum {string} */
                preset: "vgg-small";
                /** @default 0.25 */
                width: number;
            } | {
                /** @enum {string} */
                preset: "resnet-small";
                /** @default 0.25 */
                width: number;
                /** @default 1 */
                depth: number;
            } | {
                blocks: ({
                    /** @enum {string} */
                    type: "layers";
                    name?: string;
                    layers: ({
                        /** @enum {string} */
                        type: "dense";
                        units: number;
                    } | {
                        /** @enum {string} */
                        type: "conv2d";
                        filters: number;
                        kernel: number;
                        /** @default 1 */
                        stride: number;
                        /**
                         * @default same
                         * @enum {string}
                         */
                        padding: "same" | "valid";
                    } | {
                        /** @enum {string} */
                        type: "maxPool2d";
                        size: number;
                        stride?: number;
                    } | {
                        /** @enum {string} */
                        type: "avgPool2d";
                        size: number;
                        stride?: number;
                    } | {
                        /** @enum {string} */
                        type: "flatten";
                    } | {
                        /** @enum {string} */
                        type: "batchNorm";
                    } | {
                        /** @enum {string} */
                        type: "dropout";
                        rate: number;
                    } | {
                        /** @enum {string} */
                        type: "relu";
                    } | {
                        /** @enum {string} */
                        type: "tanh";
                    } | {
                        /** @enum {string} */
                        type: "sigmoid";
                    } | {
                        /** @enum {string} */
                        type: "leakyRelu";
                        /** @default 0.01 */
                        alpha: number;
                    })[];
                } | {
                    /** @enum {string} */
                    type: "residual";
                    name?: string;
                    filters: number;
                    /** @default 1 */
                    stride: number;
                })[];
                /**
                 * @default flatten
                 * @enum {string}
                 */
                classifier_pool: "flatten" | "global_avg";
            };
            dataset: {
                /** @enum {string} */
                name: "mnist" | "fashion-mnist" | "cifar10";
                train_limit?: number;
                test_limit?: number;
                dir?: string;
            } | {
                /** @enum {string} */
                name: "upload";
                path: string;
                train_limit?: number;
                test_limit?: number;
            };
            /** @description Methods to compare on the same architecture and seed; default [{"name": "e2e"}, {"name": "layerwise"}]. */
            methods?: {
                /** @enum {string} */
                name: "e2e" | "layerwise" | "sequential";
                /** @enum {string} */
                head?: "linear" | "mlp" | "conv";
                /** @enum {string} */
                loss?: "cross_entropy" | "similarity" | "supervised_contrastive";
                nhsic_lambda?: number;
                /** @enum {string} */
                nhsic_target?: "global" | "local";
                /** @enum {string} */
                nhsic_on?: "block" | "head";
                label?: string;
            }[];
            optimizer?: {
                lr?: number;
                weight_decay?: number;
                epochs?: number;
                batch_size?: number;
            };
            tracking?: {
                probe_size?: number;
                probe_batch?: number;
                first_epoch_points?: number;
                linear_probe?: boolean;
                estimator?: {
                    /** @enum {string} */
                    kernel?: "gaussian" | "linear";
                    /** @enum {string} */
                    distance?: "squared" | "plain";
                    sigma?: number | "median";
                    eps?: number;
                    /** @enum {string} */
                    centring?: "right" | "both" | "none";
                    /** @enum {string} */
                    label_kernel?: "linear" | "gaussian";
                    /** @enum {string} */
                    label_centring?: "right" | "both" | "none";
                };
            };
            seed?: number;
            /** @enum {string} */
            backend?: "auto" | "tensorflow" | "webgpu" | "native" | "wasm" | "cpu";
        };
        RunRecord: {
            key: string;
            /** @enum {string} */
            experiment: "accuracy-vs-depth" | "information-dynamics" | "toy" | "nhsic-regularised" | "entanglement";
            group: string;
            tags: {
                [key: string]: string | number;
            };
            seed: number;
            result: components["schemas"]["TrainingResult"];
            probes?: components["schemas"]["ProbePoint"][];
            sweep_settings?: {
                id: string;
                label: string;
                estimator: components["schemas"]["EstimatorConfig"];
            }[];
            seconds: number;
        };
        ProbePoint: {
            method: string;
            step: number;
            layers: components["schemas"]["ProbeLayer"][];
            input_snnl?: number;
            /** @description nHSIC under each setting of the sweep, by setting id. */
            sweep?: {
                [key: string]: {
                    xx: number;
                    yy: number;
                    x: number[];
                    y: number[];
                };
            };
        };
        ProbeLayer: {
            name: string;
            snnl?: number;
            snnl_temperature_factor?: number;
            nhsic_u?: number;
            nhsic_u_norm?: number;
            nhsic_e?: number;
            nhsic_e_norm?: number;
        };
        ExperimentRequest: {
            /** @description Experiments to run, default all. */
            names?: ("accuracy-vs-depth" | "information-dynamics" | "toy" | "nhsic-regularised" | "entanglement")[];
            /**
             * @description One experiment.
             * @enum {string}
             */
            name?: "accuracy-vs-depth" | "information-dynamics" | "toy" | "nhsic-regularised" | "entanglement";
            /**
             * @description "cpu" (default): data subsets and few epochs, about an hour on 2 cores; "full": whole datasets and the paper's settings, meant for a GPU.
             * @enum {string}
             */
            scale?: "cpu" | "long" | "full";
            /** @enum {string} */
            backend?: "auto" | "tensorflow" | "webgpu" | "native" | "wasm" | "cpu";
            /** @description Free text to find the job by (listing filter `label`), at most 200 characters. */
            label?: string;
        };
        ChartList: {
            charts: components["schemas"]["ChartInfo"][];
            formats: {
                /** @enum {string} */
                name: "json" | "svg" | "png";
                media_type: string;
            }[];
        };
        ChartInfo: {
            /** @enum {string} */
            name: "information-plane" | "nhsic-vs-step" | "accuracy" | "depth-profile" | "similarity" | "checkpoint-similarity" | "sweep-compression";
            title: string;
            description: string;
            sources: ("analyses" | "trainings")[];
            formats: ("json" | "svg" | "png")[];
            /** @description URL template per source; replace {id} and {format} */
            urls: {
                [key: string]: string;
            };
        };
        ShareLink: {
            /** @description Send as X-Infoplane-Token, or as ?token=. */
            token: string;
            expires_at: string;
            /** @description The result's page; the token rides in the fragment. */
            url: string;
            /** @description The page without chrome, for an iframe. */
            embed_url: string;
            /** @description The result's JSON. */
            api_url: string;
            /** @description Per chart: its embeddable page and its json, svg and png with the token. */
            charts: {
                [key: string]: {
                    /** @description The chart alone, embeddable (iframe). */
                    page: string;
                    json: string;
                    svg: string;
                    png: string;
                };
            };
        };
        ShareLinkRequest: {
            /** @description Lifetime of the link in seconds, 60 to 604800 (default 3600). */
            expires_in_s?: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Up */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    listJobs: {
        parameters: {
            query?: {
                /** @description Only jobs in this state. */
                status?: "queued" | "running" | "done" | "failed" | "cancelled";
                /** @description Only jobs whose label contains this text (case-insensitive). */
                label?: string;
                /** @description ISO time, exclusive. */
                created_before?: string;
                /** @description ISO time, inclusive. */
                created_after?: string;
                /** @description From the previous page's `next`. */
                cursor?: string;
                /** @description Page size (default 50). */
                limit?: number;
                /** @description Only jobs of this kind. */
                kind?: "analysis" | "training" | "experiment";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobList"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid filter or cursor */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listAnalyses: {
        parameters: {
            query?: {
                /** @description Only jobs in this state. */
                status?: "queued" | "running" | "done" | "failed" | "cancelled";
                /** @description Only jobs whose label contains this text (case-insensitive). */
                label?: string;
                /** @description ISO time, exclusive. */
                created_before?: string;
                /** @description ISO time, inclusive. */
                created_after?: string;
                /** @description From the previous page's `next`. */
                cursor?: string;
                /** @description Page size (default 50). */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobList"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid filter or cursor */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createAnalysis: {
        parameters: {
            query?: {
                /** @description Force a queued (202) analysis even when it is small. */
                async?: "true" | "false";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": components["schemas"]["MultipartDump"];
                "application/json": components["schemas"]["JsonDump"];
            };
        };
        responses: {
            /** @description Done: the result */
            200: {
                headers: {
                    /** @description Where to follow the job (GET it until its status is done or failed). */
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Analysis"];
                };
            };
            /** @description Queued: follow Location */
            202: {
                headers: {
                    /** @description Where to follow the job (GET it until its status is done or failed). */
                    Location?: string;
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Analysis"];
                };
            };
            /** @description Malformed file or body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body or dump over the configured limits */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported content type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid dump or estimator settings (the field is named) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The queue is full or the service is shutting down */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The disk is full */
            507: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listTrainings: {
        parameters: {
            query?: {
                /** @description Only jobs in this state. */
                status?: "queued" | "running" | "done" | "failed" | "cancelled";
                /** @description Only jobs whose label contains this text (case-insensitive). */
                label?: string;
                /** @description ISO time, exclusive. */
                created_before?: string;
                /** @description ISO time, inclusive. */
                created_after?: string;
                /** @description From the previous page's `next`. */
                cursor?: string;
                /** @description Page size (default 50). */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobList"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid filter or cursor */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createTraining: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "model": {
                 *         "preset": "mlp",
                 *         "depth": 4
                 *       },
                 *       "dataset": {
                 *         "name": "mnist",
                 *         "train_limit": 10000
                 *       },
                 *       "methods": [
                 *         {
                 *           "name": "e2e"
                 *         },
                 *         {
                 *           "name": "layerwise",
                 *           "loss": "cross_entropy"
                 *         }
                 *       ],
                 *       "optimizer": {
                 *         "epochs": 2
                 *       },
                 *       "label": "mlp4 e2e vs layer-wise"
                 *     }
                 */
                "application/json": components["schemas"]["TrainingRequest"];
                "multipart/form-data": components["schemas"]["TrainingMultipart"];
            };
        };
        responses: {
            /** @description Queued: follow Location or the events */
            202: {
                headers: {
                    /** @description Where to follow the job (GET it until its status is done or failed). */
                    Location?: string;
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Training"];
                };
            };
            /** @description Malformed body or dataset file */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body or upload over the configured limits */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported content type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid training request or dataset (the field is named) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Trainings do not run in this deployment (serverless mode) */
            501: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The queue is full or the service is shutting down */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The disk is full */
            507: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getAnalysis: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The analysis */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Analysis"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such analysis (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteAnalysis: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such analysis (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getAnalysisCsv: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The table */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": string;
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such analysis (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The analysis is not done */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getAnalysisEvents: {
        parameters: {
            query?: never;
            header?: {
                /** @description Last-Event-ID: resume after this event id (EventSource sends it on reconnect). */
                "last-event-id"?: string;
            };
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The event stream (until the job ends) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such analysis (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelAnalysis: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Cancelled */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Analysis"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such analysis (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The analysis has already finished */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getTraining: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Training"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such training (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteTraining: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such training (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getTrainingCsv: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The table */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": string;
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such training (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The job is not done */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getTrainingEvents: {
        parameters: {
            query?: never;
            header?: {
                /** @description Last-Event-ID: resume after this event id (EventSource sends it on reconnect). */
                "last-event-id"?: string;
            };
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The event stream (until the job ends) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such training (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelTraining: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Cancelled */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Training"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such training (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The job has already finished */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getExperimentCatalogue: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Catalogue */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExperimentCatalogue"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createExperiment: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "names": [
                 *         "toy"
                 *       ],
                 *       "scale": "cpu",
                 *       "label": "toy example"
                 *     }
                 */
                "application/json": components["schemas"]["ExperimentRequest"];
            };
        };
        responses: {
            /** @description Queued */
            202: {
                headers: {
                    /** @description Where to follow the job (GET it until its status is done or failed). */
                    Location?: string;
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Experiment"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body or upload over the configured limits */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported content type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unknown experiment, scale or field */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Experiment suites do not run in this deployment (serverless mode) */
            501: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The queue is full or the service is shutting down */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The disk is full */
            507: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getExperiment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The suite (results and verdicts once done) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Experiment"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such experiment suite (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteExperiment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such experiment suite (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getExperimentEvents: {
        parameters: {
            query?: never;
            header?: {
                /** @description Last-Event-ID: resume after this event id (EventSource sends it on reconnect). */
                "last-event-id"?: string;
            };
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The event stream (until the job ends) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such experiment suite (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelExperiment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Cancelled */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Experiment"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such experiment suite (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The suite has already finished */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getExperimentReport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                format: "md" | "html";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The report */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/markdown": string;
                    "text/html": string;
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such experiment suite (for this key), or unknown format */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The suite has not finished */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getExperimentFigure: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                name: string;
                format: "png" | "svg" | "json";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The figure */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/png": Blob;
                    "image/svg+xml": string;
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such suite, figure or format */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The suite has not finished */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listCharts: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Catalogue */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChartList"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getAnalysisChart: {
        parameters: {
            query?: {
                /** @description PNG only: pixels per SVG unit, 1 to 4 (default 2) */
                scale?: string;
            };
            header?: never;
            path: {
                id: string;
                chart: "information-plane" | "nhsic-vs-step" | "depth-profile" | "similarity" | "checkpoint-similarity" | "sweep-compression";
                format: "json" | "svg" | "png";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The chart */
            200: {
                headers: {
                    /** @description Strong validator of the rendering. */
                    ETag?: string;
                    "Cache-Control"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                    "image/svg+xml": string;
                    "image/png": Blob;
                };
            };
            /** @description Not modified (If-None-Match matched the ETag) */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such analysis (for this key) or not finished; unknown chart/format */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The analysis exists but has not finished (when the store can tell) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid scale */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getTrainingChart: {
        parameters: {
            query?: {
                /** @description PNG only: pixels per SVG unit, 1 to 4 (default 2) */
                scale?: string;
            };
            header?: never;
            path: {
                id: string;
                chart: "information-plane" | "nhsic-vs-step" | "accuracy" | "depth-profile";
                format: "json" | "svg" | "png";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The chart */
            200: {
                headers: {
                    /** @description Strong validator of the rendering. */
                    ETag?: string;
                    "Cache-Control"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                    "image/svg+xml": string;
                    "image/png": Blob;
                };
            };
            /** @description Not modified (If-None-Match matched the ETag) */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such training (for this key) or not finished; unknown chart/format */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The training exists but has not finished (when the store can tell) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid scale */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client (INFOPLANE_RATE_PER_MIN) */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createAnalysisLink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["ShareLinkRequest"];
            };
        };
        responses: {
            /** @description The link */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ShareLink"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such result (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid lifetime */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createTrainingLink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["ShareLinkRequest"];
            };
        };
        responses: {
            /** @description The link */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ShareLink"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such result (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid lifetime */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createExperimentLink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The job's id (a UUID). */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["ShareLinkRequest"];
            };
        };
        responses: {
            /** @description The link */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ShareLink"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such result (for this key) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid lifetime */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
