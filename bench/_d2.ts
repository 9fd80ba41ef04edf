import { recordRun } from '/work/main/src/extension/jvm/debugging/simulation';
import { buildMemoryTrace } from '/work/main/src/extension/jvm/debugging/memoryTrace';
import { readFileSync } from 'node:fs';
const [version, name, from, to] = process.argv.slice(2);
const run = recordRun({ classPath: `${process.env.CLS}/${version}` }, `${name}.Main`, [], '/work/main/agents/jvm/build/bathysphere-agent.jar');
const src = readFileSync(`${process.env.SRC}/${name}/${version}/${name}/Main.java`, 'utf8').split('\n');
const view = buildMemoryTrace(run.steps, run.methods, { sourceLine: (_c, l) => src[l - 1] });
for (const s of view.steps) {
  if (s.order < Number(from) || s.order > Number(to)) continue;
  const r = s.reads.map(r => `${r.name}=${r.value}${r.writer ? '<' + r.writer.order : ''}`).join(', ');
  const w = s.writes.map(w => `${w.name}=${w.value}`).join(', ');
  console.log(s.order, s.method, s.line, 'R[', r, '] W[', w, ']', 'parent', s.invocationParent?.order);
}
