/**
 * The checkpoints shipped in packages/graph/checkpoints/: each is a task checkpoint of its task, well
 * under 2 MB, and runs at once with no store (how `multihead run` and the playground start).
 */
import { type Device, models, type TaskContext, tasks } from '@multihead/core';
import { getDevices } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { karateClub } from '../src/data/karate-club.js';
import { ProteinTokenizer } from '../src/preprocess/protein-tokenizer.js';
import { GRAPH_TASKS } from '../src/tasks/index.js';
import { familyTokens, residueNll } from '../src/tasks/protein-gpt.js';

let device: Device;
let ctx: TaskContext;
beforeAll(async () => {
  device = (await getDevices()).dev;
  ctx = { device };
});
const task = (id: string) => GRAPH_TASKS.find((t) => t.id === id)!;
// human hemoglobin alpha (UniProt P69905 without its initiator Met), a member of hmmer2's globins630
const HBA_HUMAN =
  'VLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHVDDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAHLPAEFTPAVHASLDKFLASVSTVLTSKYR';

describe('committed checkpoints', () => {
  for (const t of GRAPH_TASKS) {
    it(`${t.id}: ships a checkpoint of its own task under 2 MB`, async () => {
      const bytes = (await t.committedCheckpoint!())!;
      expect(bytes.length).toBeLessThan(2 * 1024 * 1024);
      const loaded = tasks.parseTaskCheckpoint(t.id, bytes, 'committed', 'committed');
      expect(loaded.step).toBeGreaterThan(0);
    });
  }

  it('graph/pfam: a human alpha globin is a globin', async () => {
    const output = await task('graph/pfam').run(ctx, HBA_HUMAN).result;
    expect(output).toMatchObject({ kind: 'label', label: 'globins630' });
    expect(output.artifacts?.[0]?.mime).toBe('image/png');
  });

  it('graph/karate: labels the club as its factions, mostly', async () => {
    const output = await task('graph/karate').run(ctx).result;
    if (output.kind !== 'labels') throw new Error('expected labels');
    const truth = karateClub().nodes.map((n) => n.attributes['club']);
    const right = output.items.filter((item, i) => item.label === truth[i]).length;
    expect(right).toBeGreaterThanOrEqual(30);
  });

  it('graph/molecules: three common drugs within 10 Å² of openchemlib TPSA', async () => {
    // paracetamol, caffeine, ibuprofen
    for (const smiles of ['CC(=O)Nc1ccc(O)cc1', 'Cn1cnc2c1c(=O)n(C)c(=O)n2C', 'CC(C)Cc1ccc(cc1)C(C)C(=O)O']) {
      const output = await task('graph/molecules').run(ctx, smiles).result;
      if (output.kind !== 'values') throw new Error('expected values');
      expect(Math.abs(output.values['tpsa']! - output.values['openchemlibTpsa']!)).toBeLessThan(10);
    }
  });

  it('graph/protein: a globin is likelier as a globin than as any other family', async () => {
    const t = task('graph/protein');
    const loaded = await tasks.loadTaskCheckpoint<models.GPTConfig, { families: string[] }>(ctx, t);
    const gpt = new models.GPT(device, { ...loaded.config, seed: 0 });
    try {
      gpt.loadStateDict(loaded.checkpoint.model);
      const tokenizer = new ProteinTokenizer();
      const families = loaded.preprocessing.families;
      const perResidue = await Promise.all(
        families.map(async (_, f) => {
          const { nll, count } = await residueNll(
            gpt,
            [familyTokens(tokenizer, f, HBA_HUMAN)],
            tokenizer.padId,
          );
          expect(count).toBe(HBA_HUMAN.length);
          return nll / count;
        }),
      );
      const globin = perResidue[families.indexOf('globins630')]!;
      for (const [f, nll] of perResidue.entries())
        if (families[f] !== 'globins630') expect(globin).toBeLessThan(nll);
      expect(Math.exp(globin)).toBeLessThan(20); // below a uniform choice among the 20 amino acids
    } finally {
      gpt.dispose();
    }
  });

  it('graph/protein: streams residues of a family', async () => {
    const { pieces, output } = await tasks.collectRun(
      task('graph/protein').run(ctx, undefined, { family: 'globins630', maxNewTokens: 20 }),
    );
    expect(pieces.length).toBeGreaterThan(0);
    expect(output.kind === 'text' && /^[A-Z]{1,20}$/.test(output.text)).toBe(true);
  });
});
