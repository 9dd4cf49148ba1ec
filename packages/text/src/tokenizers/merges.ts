/**
 * BPE merge learning (Sennrich et al. 2016), shared by the byte-level BPE and WordPiece trainers (Hugging
 * Face trains WordPiece vocabularies with the same BPE loop). Pair counts are kept incrementally: a merge
 * only revisits the words that contain its pair, and a max-heap with lazy deletion finds the next best
 * pair, as in the Rust `tokenizers` BpeTrainer. Training never recounts the corpus per merge.
 */

export interface WordCount {
  /** The word's initial symbols, each already in the initial vocab. */
  symbols: string[];
  count: number;
}

export interface LearnMergesOptions {
  /** Initial vocabulary (special tokens, then the alphabet); ids are positions. */
  vocab: string[];
  words: Iterable<WordCount>;
  /** Stop once the vocabulary has this many tokens. */
  vocabSize: number;
  /** Stop when the best pair occurs fewer times than this. */
  minFrequency: number;
  /** The token a merge creates: plain concatenation for BPE; WordPiece drops the right side's `##`. */
  join: (left: string, right: string) => string;
}

export interface LearnedMerges {
  vocab: string[];
  merges: [string, string][];
}

/** Pair (left id, right id) packed in one number; ids stay below 2^21, so keys stay exact doubles. */
const PAIR_BASE = 2 ** 21;
export const MAX_VOCAB_SIZE = PAIR_BASE;
const pairKey = (left: number, right: number) => left * PAIR_BASE + right;

/**
 * Max-heap of (count, left, right). Ties go to the smaller (left, right) ids, so training is deterministic
 * and, as in Hugging Face's trainer, earlier tokens win.
 */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the best entry as [count, key]. */
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0]!, this.keys[0]!];
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.keys.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < this.keys.length && this.before(left, best)) best = left;
        if (right < this.keys.length && this.before(right, best)) best = right;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }

  private before(a: number, b: number): boolean {
    const ca = this.counts[a]!;
    const cb = this.counts[b]!;
    return ca !== cb ? ca > cb : this.keys[a]! < this.keys[b]!;
  }

  private swap(a: number, b: number): void {
    [this.counts[a], this.counts[b]] = [this.counts[b]!, this.counts[a]!];
    [this.keys[a], this.keys[b]] = [this.keys[b]!, this.keys[a]!];
  }
}

export function learnMerges(options: LearnMergesOptions): LearnedMerges {
  const vocab = [...options.vocab];
  const idOf = new Map(vocab.map((token, id) => [token, id]));
  const words: number[][] = [];
  const counts: number[] = [];
  for (const word of options.words) {
    words.push(word.symbols.map((symbol) => idOf.get(symbol)!));
    counts.push(word.count);
  }

  // pair -> occurrences weighted by word count, and pair -> words that (may) contain it
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPair = (key: number, delta: number, word: number) => {
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    if (delta > 0) {
      const set = pairWords.get(key);
      if (set === undefined) pairWords.set(key, new Set([word]));
      else set.add(word);
    }
  };
  words.forEach((symbols, w) => {
    for (let i = 0; i + 1 < symbols.length; i++)
      addPair(pairKey(symbols[i]!, symbols[i + 1]!), counts[w]!, w);
  });

  const heap = new PairHeap();
  for (const [key, count] of pairCounts) heap.push(count, key);

  const merges: [string, string][] = [];
  // a reused token id can bring a merged pair back; merging it twice would write a duplicate merge
  const done = new Set<number>();
  while (vocab.length < options.vocabSize && heap.size > 0) {
    const [count, key] = heap.pop();
    const current = pairCounts.get(key) ?? 0;
    // lazy deletion: a stale entry (its pair lost occurrences since it was pushed) goes back with its
    // current count; entries only ever overstate counts, so the first fresh top is the true best
    if (current !== count || done.has(key)) {
      if (current > 0 && !done.has(key)) heap.push(current, key);
      continue;
    }
    if (count < options.minFrequency) break;

    const left = Math.floor(key / PAIR_BASE);
    const right = key % PAIR_BASE;
    const token = options.join(vocab[left]!, vocab[right]!);
    // two different pairs can spell the same token ("a"+"bc", "ab"+"c"): reuse its id, still record the merge
    let merged = idOf.get(token);
    if (merged === undefined) {
      merged = vocab.length;
      vocab.push(token);
      idOf.set(token, merged);
    }
    merges.push([vocab[left]!, vocab[right]!]);

    const touched = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      const before = words[w]!;
      const after = mergeWord(before, left, right, merged);
      if (after === before) continue; // the word lost this pair to an earlier merge
      words[w] = after;
      // subtract the word's old pairs, add its new ones (words are short, so this is cheap and exact)
      for (let i = 0; i + 1 < before.length; i++)
        addPair(pairKey(before[i]!, before[i + 1]!), -counts[w]!, w);
      for (let i = 0; i + 1 < after.length; i++) {
        const k = pairKey(after[i]!, after[i + 1]!);
        addPair(k, counts[w]!, w);
        // only pairs next to the new token can have grown; the rest lost or kept occurrences
        if (after[i] === merged || after[i + 1] === merged) touched.add(k);
      }
    }
    pairCounts.delete(key);
    pairWords.delete(key);
    done.add(key);
    for (const k of touched) {
      const c = pairCounts.get(k) ?? 0;
      if (c > 0 && !done.has(k)) heap.push(c, k);
    }
  }
  return { vocab, merges };
}

/** Replaces each non-overlapping (left, right), scanning left to right; returns `symbols` if none. */
function mergeWord(symbols: number[], left: number, right: number, merged: number): number[] {
  let out: number[] | undefined;
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      out ??= symbols.slice(0, i);
      out.push(merged);
      i++;
    } else if (out !== undefined) {
      out.push(symbols[i]!);
    }
  }
  return out ?? symbols;
}
