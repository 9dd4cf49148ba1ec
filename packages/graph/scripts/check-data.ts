/**
 * Prints what the Debian-backed loaders find on this machine: protein families and their identity
 * splits (hmmer-examples, hmmer2), the karate club, and the NCI molecules with openchemlib's targets
 * (rdkit-data). The first run fills the cache (<repo>/.cache/datasets; ~30 s for the globin split).
 *   pnpm exec tsx scripts/check-data.ts
 */
import {
  alignedIdentity,
  connectedComponentLabels,
  globalAlignmentIdentity,
  karateClub,
  loadMolecules,
  loadProteinFamilies,
  loadProteinFamilySplits,
} from '../src/index.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const fixed = (value: number, digits = 2) => value.toFixed(digits);

const { families, excluded } = await loadProteinFamilies();
console.log('protein families (gaps removed):');
console.log('  id              sequences  length min/median/max  columns');
for (const family of families) {
  const lengths = family.sequences.map((s) => s.sequence.length);
  const columns = family.aligned ? String(family.sequences[0]!.aligned!.length) : '-';
  console.log(
    `  ${family.id.padEnd(16)}${String(lengths.length).padStart(9)}  ` +
      `${`${Math.min(...lengths)}/${median(lengths)}/${Math.max(...lengths)}`.padStart(21)}  ${columns.padStart(7)}`,
  );
}
const total = families.reduce((sum, f) => sum + f.sequences.length, 0);
console.log(`  ${families.length} families, ${total} sequences`);
for (const e of excluded) console.log(`  excluded ${e.id} (${e.file}): ${e.reason}`);

const started = performance.now();
const splits = await loadProteinFamilySplits({ threshold: 0.5, testFraction: 0.2, seed: 0 });
console.log(
  `\nidentity splits (threshold 0.5, test fraction 0.2, seed 0; ${fixed((performance.now() - started) / 1000, 1)} s):`,
);
console.log('  id              identity  clusters  train  test  max test-train identity');
for (const split of splits) {
  const measure = split.identity === 'aligned' ? alignedIdentity : globalAlignmentIdentity;
  const row = (s: { sequence: string; aligned?: string }) =>
    split.identity === 'aligned' ? s.aligned! : s.sequence;
  let worst = 0;
  for (const test of split.test)
    for (const train of split.train) worst = Math.max(worst, measure(row(test), row(train)));
  console.log(
    `  ${split.id.padEnd(16)}${split.identity.padEnd(10)}${String(split.clusters).padStart(8)}` +
      `${String(split.train.length).padStart(7)}${String(split.test.length).padStart(6)}  ` +
      (split.test.length === 0 ? '-' : fixed(worst, 3)),
  );
}

const karate = karateClub();
const factions = [0, 1].map((f) => karate.nodes.filter((n) => n.attributes['faction'] === f).length);
console.log(
  `\nkarate club: ${karate.nodes.length} nodes, ${karate.edges.length} edges, factions ${factions.join(' / ')}, ` +
    `${connectedComponentLabels(karate).count} component`,
);

const molecules = await loadMolecules();
const tpsa = molecules.molecules.map((m) => m.tpsa);
const logP = molecules.molecules.map((m) => m.logP);
const withReference = molecules.molecules.filter((m) => m.referenceTpsa !== undefined);
const agreeing = withReference.filter((m) => Math.abs(m.tpsa - m.referenceTpsa!) < 0.01).length;
console.log(
  `\nNCI molecules (rdkit-data first_5K.smi): ${molecules.total} SMILES, ${molecules.molecules.length} kept, ` +
    `${molecules.invalid} invalid`,
);
for (const e of molecules.invalidExamples) console.log(`  invalid line ${e.line}: ${e.reason}`);
console.log(
  `  TPSA min/median/max ${fixed(Math.min(...tpsa))}/${fixed(median(tpsa))}/${fixed(Math.max(...tpsa))}`,
);
console.log(
  `  logP min/median/max ${fixed(Math.min(...logP))}/${fixed(median(logP))}/${fixed(Math.max(...logP))}`,
);
console.log(`  TPSA within 0.01 of Daylight/Ertl's: ${agreeing} of ${withReference.length}`);
