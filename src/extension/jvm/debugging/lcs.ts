// Longest common subsequence of two key sequences, for aligning source lines and trace steps.
// Common prefix and suffix are matched first (versions of a program mostly agree); the middle
// gets the quadratic table, or a greedy scan when it would be too large to hold.

/** Cells of the table above which the greedy fallback is used (memory ~ 4 bytes per cell). */
const MAX_TABLE_CELLS = 25_000_000;

/** Matched index pairs [i in a, j in b], increasing in both. */
export function longestCommonSubsequence<T>(a: readonly T[], b: readonly T[]): [number, number][] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const pairs: [number, number][] = [];
  for (let i = 0; i < start; i++) pairs.push([i, i]);
  const middle =
    (endA - start) * (endB - start) > MAX_TABLE_CELLS
      ? greedyMatch(a, b, start, endA, start, endB)
      : tableMatch(a, b, start, endA, start, endB);
  pairs.push(...middle);
  for (let k = 0; endA + k < a.length; k++) pairs.push([endA + k, endB + k]);
  return pairs;
}

function tableMatch<T>(
  a: readonly T[],
  b: readonly T[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
): [number, number][] {
  const n = a1 - a0;
  const m = b1 - b0;
  if (n === 0 || m === 0) return [];
  // lengths[i][j] = LCS of a[a0+i..a1) and b[b0+j..b1), row-major, (n+1) x (m+1)
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * width + j] =
        a[a0 + i] === b[b0 + j]
          ? lengths[(i + 1) * width + j + 1] + 1
          : Math.max(lengths[(i + 1) * width + j], lengths[i * width + j + 1]);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[a0 + i] === b[b0 + j]) {
      pairs.push([a0 + i, b0 + j]);
      i++;
      j++;
    } else if (lengths[(i + 1) * width + j] >= lengths[i * width + j + 1]) i++;
    else j++;
  }
  return pairs;
}

/** Matches each element of a with the next equal element of b (linear, not optimal). */
function greedyMatch<T>(
  a: readonly T[],
  b: readonly T[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
): [number, number][] {
  const pairs: [number, number][] = [];
  let j = b0;
  for (let i = a0; i < a1 && j < b1; i++) {
    let k = j;
    while (k < b1 && k - j < 64 && b[k] !== a[i]) k++;
    if (k < b1 && b[k] === a[i]) {
      pairs.push([i, k]);
      j = k + 1;
    }
  }
  return pairs;
}
