/** CLI commands that read session files: `info` and `export`. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, ExitCode, type CliCommand, type CliIo } from '../cli/command';
import { jvmRunCounts } from '../jvm/traceReader';
import { exportRecords } from './exportRecords';
import { SessionFileError, SessionStore } from './sessionStore';

/** Opens a session for reading; file problems become one-line CLI errors. */
export async function openSessionForCli(file: string): Promise<SessionStore> {
  try {
    return await SessionStore.open(file, { flushIntervalMs: 0 });
  } catch (error) {
    if (error instanceof SessionFileError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }
}

async function withSession<T>(
  file: string,
  body: (store: SessionStore) => T | Promise<T>,
): Promise<T> {
  const store = await openSessionForCli(file);
  try {
    return await body(store);
  } finally {
    // Read-only use: nothing to write back unless opening migrated an old file.
    await store.close();
  }
}

function oneFile(args: string[], options: ParseArgsConfig['options'] = {}) {
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (parsed.positionals.length !== 1) {
    throw new CliError(`expected one session file, got ${parsed.positionals.length}`);
  }
  return { file: parsed.positionals[0], values: parsed.values };
}

const info: CliCommand = {
  path: ['info'],
  summary: 'Show the runs in a session file and how much each holds',
  help: `usage: bathysphere info [--json] FILE

Prints the session's schema version, its runs (target kind, target, project,
launch, created) and row counts.

  --json   one JSON object instead of text`,
  async run(args: string[], io: CliIo) {
    const { file, values } = oneFile(args, { json: { type: 'boolean' } });
    return withSession(file, (store) => {
      const runs = store.runs().map((run) => ({
        ...run,
        graph: countGraph(store, run.id),
        ...(run.targetKind === 'jvm' ? { jvm: jvmRunCounts(store, run.id) } : {}),
      }));
      const counts = store.counts();
      if (values.json) {
        io.out(JSON.stringify({ file, counts, runs }, null, 2) + '\n');
        return ExitCode.ok;
      }
      io.out(
        `${file}: ${counts.runs} run(s), ${counts.graphNodes} graph node(s), ${counts.graphEdges} graph edge(s)\n`,
      );
      for (const run of runs) {
        const parts = [`run ${run.id}`, run.targetKind, run.target];
        if (run.project) parts.push(`project ${run.project}`);
        if (run.launch) parts.push(`launch ${run.launch}`);
        parts.push(`created ${run.createdAt}`);
        if (run.endedAt) parts.push(`ended ${run.endedAt}`);
        io.out(
          `  ${parts.join(' | ')}\n    ${run.graph.nodes} node(s), ${run.graph.edges} edge(s)\n`,
        );
        if (run.jvm) io.out(`    ${run.jvm.steps} step(s) in ${run.jvm.threads} thread(s)\n`);
      }
      return ExitCode.ok;
    });
  },
};

function countGraph(store: SessionStore, runId: number) {
  const row = store.query<{ nodes: number; edges: number }>(
    `SELECT (SELECT count(*) FROM graph_nodes WHERE run_id = ?) AS nodes,
            (SELECT count(*) FROM graph_edges WHERE run_id = ?) AS edges`,
    [runId, runId],
  )[0];
  return row;
}

const exportCommand: CliCommand = {
  path: ['export'],
  summary: 'Write everything in a session file as JSON lines',
  help: `usage: bathysphere export FILE --format jsonl

Writes one JSON object per line to standard output, each with a "type":
"session" first, then every "run" followed by its records ("node", "edge", ...).

  --format jsonl   the output format (jsonl is the only one for now)`,
  async run(args: string[], io: CliIo) {
    const { file, values } = oneFile(args, { format: { type: 'string', default: 'jsonl' } });
    if (values.format !== 'jsonl') {
      throw new CliError(`unknown format '${String(values.format)}' (supported: jsonl)`);
    }
    return withSession(file, (store) => {
      for (const record of exportRecords(store)) {
        if (io.signal.aborted) return ExitCode.failed;
        io.out(JSON.stringify(record) + '\n');
      }
      return ExitCode.ok;
    });
  },
};

export const storeCommands: CliCommand[] = [info, exportCommand];
