/**
 * The causal protein generator of graph/protein: core's models.GPT over ESM-2's 33 tokens plus one token
 * per family. A sequence is read as [family, <cls>, residues..., <eos>], so the family conditions every
 * residue (CTRL's control codes, Keskar et al. 2019; ProGen's tags, Madani et al. 2023). Sequences longer
 * than the context are cut into windows that keep the family token first. Scoring (held-out NLL) covers
 * residues only, each once, with as much preceding context as the window allows.
 */
import {
  type io,
  type models,
  nn,
  noGrad,
  seededUniform,
  type TaskContext,
  type Tensor,
  tasks,
  tidy,
} from '@multihead/core';
import { invalidArgument } from '../errors.js';
import type { ProteinTokenizer } from '../preprocess/protein-tokenizer.js';

export interface ProteinGptTraining {
  steps: number;
  batchSize: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  clipGradNorm: number;
  /**
   * How training sequences are drawn (default 'sequence'): 'sequence' uniformly; 'cluster' an identity
   * cluster uniformly, then a member; 'family' a family uniformly, then one of its clusters, then a
   * member. The balanced draws keep a large near-duplicate cluster from dominating the batches.
   */
  sampling?: ProteinSampling;
}

export type ProteinSampling = 'sequence' | 'cluster' | 'family';

/** Where a training sequence sits: its family and its identity cluster within the family. */
export interface SequenceGroup {
  family: number;
  cluster: number;
}

/**
 * A draw of sequence indices (into `groups`) by `sampling` (see ProteinGptTraining.sampling), each draw
 * taking numbers from `uniform` (values in [0, 1)).
 */
export function sequenceSampler(
  groups: readonly SequenceGroup[],
  sampling: ProteinSampling,
  uniform: () => number,
): () => number {
  const where = 'sequenceSampler';
  if (groups.length === 0) invalidArgument(`${where}: groups is empty; expected at least one sequence`);
  const pick = <T>(items: readonly T[]) =>
    items[Math.min(items.length - 1, Math.floor(uniform() * items.length))]!;
  if (sampling === 'sequence')
    return () => Math.min(groups.length - 1, Math.floor(uniform() * groups.length));
  // families -> clusters -> member indices, in order of first appearance
  const families = new Map<number, Map<number, number[]>>();
  groups.forEach((g, i) => {
    if (!Number.isInteger(g.family) || !Number.isInteger(g.cluster))
      invalidArgument(`${where}: groups[${i}] is ${JSON.stringify(g)}; expected integer family and cluster`);
    const clusters = families.get(g.family) ?? new Map<number, number[]>();
    families.set(g.family, clusters);
    const members = clusters.get(g.cluster) ?? [];
    clusters.set(g.cluster, members);
    members.push(i);
  });
  const byFamily = [...families.values()].map((clusters) => [...clusters.values()]);
  if (sampling === 'cluster') {
    const all = byFamily.flat();
    return () => pick(pick(all));
  }
  if (sampling === 'family') return () => pick(pick(pick(byFamily)));
  return invalidArgument(
    `${where}: sampling is ${JSON.stringify(sampling)}; expected 'sequence', 'cluster' or 'family'`,
  );
}

/** A row of tokens and which of its next-token targets are scored (`scored[t]` for target ids[t + 1]). */
export interface ScoredRow {
  ids: number[];
  scored: boolean[];
}

/** [family, <cls>, residues, <eos>] as token ids; family tokens follow the 33 ESM ids. */
export function familyTokens(tokenizer: ProteinTokenizer, family: number, residues: string): number[] {
  return [tokenizer.vocabSize + family, ...tokenizer.encode(residues)];
}

/**
 * Rows that score every residue of one sequence once (targets at positions 2 .. n + 1 of its tokens),
 * each row at most `block` inputs long, the family token first.
 */
export function scoringRows(tokens: readonly number[], block: number): ScoredRow[] {
  const residueTargets = (t: number) => t >= 1 && t < tokens.length - 2; // target tokens[t + 1] is a residue
  if (tokens.length <= block + 1) {
    return [{ ids: [...tokens], scored: tokens.slice(0, -1).map((_, t) => residueTargets(t)) }];
  }
  const rows: ScoredRow[] = [];
  const stride = Math.max(1, Math.floor(block / 2));
  let next = 0; // first target index not yet scored
  for (let end = block; ; end = Math.min(tokens.length - 1, end + stride)) {
    // inputs: family + tokens[end - block + 1 .. end - 1] (block inputs), targets up to tokens[end]
    const start = end - block + 1;
    const ids = start <= 0 ? tokens.slice(0, end + 1) : [tokens[0]!, ...tokens.slice(start, end + 1)];
    const scored = ids.slice(0, -1).map((_, k) => {
      const t = start <= 0 ? k : start + k - 1; // index in `tokens` of the target's predecessor
      return k > 0 && t >= next && residueTargets(t);
    });
    rows.push({ ids, scored });
    next = end;
    if (end >= tokens.length - 1) return rows;
  }
}

/** Inputs [B, T] and targets [B, T] (-100 where not scored) of rows padded with `padId`. */
function packScored(device: TaskContext['device'], rows: readonly ScoredRow[], padId: number) {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.ids.length - 1));
  const inputs = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T).fill(-100);
  let count = 0;
  rows.forEach((row, b) => {
    for (let t = 0; t < row.ids.length - 1; t++) {
      inputs[b * T + t] = row.ids[t]!;
      if (row.scored[t]) {
        targets[b * T + t] = row.ids[t + 1]!;
        count++;
      }
    }
  });
  return {
    inputs: device.tensor(inputs, [B, T], { dtype: 'i32' }),
    targets: device.tensor(targets, [B, T], { dtype: 'i32' }),
    count,
  };
}

/**
 * A training row of one sequence: the whole of it when it fits, else a random window after the family
 * token; every target is scored but the first after a cut (it has no context).
 */
export function trainingRow(tokens: readonly number[], block: number, uniform: () => number): ScoredRow {
  if (tokens.length <= block + 1) return { ids: [...tokens], scored: tokens.slice(0, -1).map(() => true) };
  const start = 1 + Math.floor(uniform() * (tokens.length - block)); // tokens[start .. start + block - 1]
  const ids = [tokens[0]!, ...tokens.slice(start, start + block)];
  return { ids, scored: ids.slice(0, -1).map((_, k) => k > 0 || start === 1) };
}

/**
 * Trains `gpt` on `sequences` (token lists). With `validation`, the held-out NLL per residue is measured
 * every `every` steps and the best weights so far are kept (early stopping): a family's sequences are
 * few and near-duplicates, so a GPT soon memorizes them and its held-out loss rises while its training
 * loss keeps falling.
 */
export async function trainProteinGpt(
  ctx: TaskContext,
  gpt: models.GPT,
  sequences: readonly number[][],
  padId: number,
  h: ProteinGptTraining,
  run: tasks.TaskTrainingRun,
  groups: readonly SequenceGroup[] | undefined,
  validation?: { sequences: readonly number[][]; every: number },
): Promise<tasks.TaskTrainSummary & { validation: { step: number; nll: number }[]; bestStep: number }> {
  const { optimizer, scheduler } = tasks.taskOptimizer(gpt.parameters(), { ...h, betas: [0.9, 0.95] }, run);
  const uniform = seededUniform(run.seed * 7919 + 23);
  if (groups !== undefined && groups.length !== sequences.length)
    invalidArgument(
      `trainProteinGpt: groups has ${groups.length} entries; expected one per sequence (${sequences.length})`,
    );
  const draw = sequenceSampler(
    groups ?? sequences.map(() => ({ family: 0, cluster: 0 })),
    groups === undefined ? 'sequence' : (h.sampling ?? 'sequence'),
    uniform,
  );
  const block = gpt.config.blockSize;
  const started = performance.now();
  const history: { step: number; nll: number }[] = [];
  let best: { step: number; nll: number; state: Record<string, io.HostTensor> } | null = null;
  const total = { steps: 0, items: 0, losses: [] as { step: number; loss: number }[], finalLoss: Number.NaN };
  let stopped = { aborted: false, outOfTime: false };
  try {
    const every = validation?.every ?? run.steps;
    for (let start = 0; start < run.steps && !stopped.aborted && !stopped.outOfTime; start += every) {
      const left =
        run.maxSeconds === undefined ? undefined : run.maxSeconds - (performance.now() - started) / 1000;
      if (left !== undefined && left <= 0) break;
      gpt.train();
      const chunk = await tasks.trainForTask(ctx, {
        model: gpt,
        optimizer,
        scheduler,
        steps: Math.min(every, run.steps - start),
        startStep: start,
        maxSeconds: left,
        clipGradNorm: h.clipGradNorm,
        progressEvery: 10,
        unit: 'residues',
        items: (b) => b.count,
        batch: () =>
          packScored(
            ctx.device,
            Array.from({ length: h.batchSize }, () => trainingRow(sequences[draw()]!, block, uniform)),
            padId,
          ),
        loss: ({ inputs, targets }) => nn.crossEntropy(gpt.forward(inputs), targets), // logits [B, T, V]
      });
      total.steps += chunk.steps;
      total.items += chunk.items;
      total.losses.push(...chunk.losses);
      total.finalLoss = chunk.finalLoss;
      stopped = { aborted: chunk.aborted && !chunk.outOfTime, outOfTime: chunk.outOfTime };
      if (!validation || chunk.steps === 0) continue;
      const { nll, count } = await residueNll(gpt, validation.sequences, padId);
      history.push({ step: total.steps, nll: nll / count });
      ctx.log?.(`validation after ${total.steps} steps: ${(nll / count).toFixed(4)} nats per residue`);
      if (!best || nll / count < best.nll) {
        const state: Record<string, io.HostTensor> = {};
        for (const [name, t] of Object.entries(gpt.stateDict()))
          state[name] = { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(await t.read()) };
        best = { step: total.steps, nll: nll / count, state };
      }
    }
    if (best) gpt.loadStateDict(best.state);
    const seconds = (performance.now() - started) / 1000;
    return {
      steps: total.steps,
      finalLoss: total.finalLoss,
      losses: total.losses,
      seconds,
      aborted: stopped.aborted,
      items: total.items,
      itemsPerSecond: total.items / Math.max(1e-9, seconds),
      unit: 'residues',
      outOfTime: stopped.outOfTime,
      validation: history,
      bestStep: best?.step ?? total.steps,
    };
  } finally {
    optimizer.dispose();
    gpt.eval();
  }
}

/** Summed NLL (nats) of the residues of `sequences` (token lists) and how many were scored. */
export async function residueNll(
  gpt: models.GPT,
  sequences: readonly number[][],
  padId: number,
  maxRows = 16,
): Promise<{ nll: number; count: number }> {
  gpt.eval();
  const rows = sequences.flatMap((tokens) => scoringRows(tokens, gpt.config.blockSize));
  let nll = 0;
  let count = 0;
  for (let i = 0; i < rows.length; i += maxRows) {
    let scored = 0;
    const loss: Tensor = noGrad(() =>
      tidy(() => {
        const packed = packScored(gpt.device, rows.slice(i, i + maxRows), padId);
        scored = packed.count;
        return nn.crossEntropy(gpt.forward(packed.inputs), packed.targets, { reduction: 'sum' });
      }),
    );
    nll += (await loss.read())[0]!;
    count += scored;
    loss.dispose();
  }
  return { nll, count };
}
