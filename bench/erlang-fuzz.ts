/**
 * Long decoder fuzz run: npx tsx bench/erlang-fuzz.ts [count] [seed]
 * Generated terms, mutated (bit flips, truncation, bogus length fields, splices,
 * recompression) or replaced by random bytes. Every input must decode (and
 * re-encode to an equal term) or fail with EtfDecodeError; anything else aborts.
 */
import { fuzzDecoder } from '../test/unit/erlang/helpers/fuzz';

const count = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 20_251_122);
const chunk = 100_000;
const started = Date.now();
let decoded = 0;
let rejected = 0;
for (let done = 0; done < count; done += chunk) {
  const stats = fuzzDecoder(Math.min(chunk, count - done), seed + done);
  decoded += stats.decoded;
  rejected += stats.rejected;
  console.log(
    `${done + Math.min(chunk, count - done)} inputs: ${decoded} decoded, ${rejected} rejected`,
  );
}
const seconds = (Date.now() - started) / 1000;
console.log(`done: ${count} inputs in ${seconds.toFixed(1)} s, no crash, hang or untyped error`);
