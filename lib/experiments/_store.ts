/**
 * A directory that keeps a suite's finished runs, so that an interrupted suite continues from
 * them: `<dir>/<run key>.json` holds the run's spec and its record (a restart reuses a record only
 * when the spec is exactly the same), `<dir>/sessions.json` the start and last update of every
 * session (so the report can state the wall time of earlier, interrupted sessions).
 *
 * @module
 */
import { join } from "node:path";
import type { RunStore } from "./_runner.ts";
import type { RunRecord, RunSpec } from "./types.ts";

interface Session {
  started_at: string;
  updated_at: string;
  runs: number;
}

/** The file of a run: its key with "/" as "__". */
function fileOf(dir: string, key: string): string {
  return join(dir, `${key.replace(/[^A-Za-z0-9._-]+/g, "__")}.json`);
}

/**
 * A {@link RunStore} in `dir` (created when missing). `fresh` ignores what is there (and
 * overwrites it run by run).
 */
export async function dirRunStore(dir: string, fresh = false): Promise<RunStore> {
  await Deno.mkdir(dir, { recursive: true });
  const sessionsFile = join(dir, "sessions.json");
  let sessions: Session[] = [];
  if (!fresh) {
    try {
      sessions = JSON.parse(await Deno.readTextFile(sessionsFile));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const earlier = sessions.slice();
  const now = new Date().toISOString();
  const current: Session = { started_at: now, updated_at: now, runs: 0 };
  sessions.push(current);
  await Deno.writeTextFile(sessionsFile, JSON.stringify(sessions, null, 1) + "\n");
  return {
    async load(spec: RunSpec): Promise<RunRecord | null> {
      if (fresh) return null;
      try {
        const kept = JSON.parse(await Deno.readTextFile(fileOf(dir, spec.key))) as {
          spec: RunSpec;
          record: RunRecord;
        };
        return JSON.stringify(kept.spec) === JSON.stringify(spec) ? kept.record : null;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return null;
        throw e;
      }
    },
    async save(spec: RunSpec, record: RunRecord): Promise<void> {
      // Written to a temporary file and renamed: an interruption never leaves half a record.
      const file = fileOf(dir, spec.key);
      await Deno.writeTextFile(`${file}.tmp`, JSON.stringify({ spec, record }));
      await Deno.rename(`${file}.tmp`, file);
      current.updated_at = new Date().toISOString();
      current.runs++;
      await Deno.writeTextFile(sessionsFile, JSON.stringify(sessions, null, 1) + "\n");
    },
    earlierWallSeconds(): Promise<number> {
      return Promise.resolve(
        earlier.reduce(
          (t, s) => t + (Date.parse(s.updated_at) - Date.parse(s.started_at)) / 1000,
          0,
        ),
      );
    },
  };
}
