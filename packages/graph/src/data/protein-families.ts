/**
 * Protein families from Debian packages (Node): the Pfam seed alignments HMMER ships as examples
 * (`hmmer-examples`, under /usr/share/doc/hmmer/examples: tutorial/Pkinase, fn3, globins4;
 * testsuite/RRM_1, SMC_N, LuxC, Caudal_act, Patched, XYPPX and `minifam`, a file of five Pfam families)
 * and HMMER 2's 630 unaligned globins (`hmmer2`, tutorial/globins630.fa). Sequences lose their gaps and
 * are upper-cased. tutorial/MADE1.sto is a Dfam DNA-transposon alignment, not a protein family: it is
 * read and then dropped by the nucleotide check (listed in `excluded`). A family that appears twice
 * (Caudal_act is also in minifam) is kept once. Parsed families are cached with core's `io.cachedJSON`.
 */
import { io } from '@multihead/core';
import { requireFile } from '../node.js';
import { readFasta } from '../preprocess/fasta.js';
import { readStockholm } from '../preprocess/stockholm.js';
import { type IdentitySplitOptions, identitySplit } from './identity-split.js';

const HMMER = '/usr/share/doc/hmmer/examples';

/** The files read by default, in this order. */
export const PROTEIN_FAMILY_FILES: readonly string[] = [
  `${HMMER}/tutorial/Pkinase.sto`,
  `${HMMER}/tutorial/fn3.sto`,
  `${HMMER}/tutorial/globins4.sto`,
  `${HMMER}/tutorial/MADE1.sto`,
  `${HMMER}/testsuite/RRM_1.sto.gz`,
  `${HMMER}/testsuite/SMC_N.sto.gz`,
  `${HMMER}/testsuite/LuxC.sto.gz`,
  `${HMMER}/testsuite/Caudal_act.sto.gz`,
  `${HMMER}/testsuite/Patched.sto.gz`,
  `${HMMER}/testsuite/XYPPX.sto`,
  `${HMMER}/testsuite/minifam.gz`,
  '/usr/share/doc/hmmer2/examples/tutorial/globins630.fa',
];

export interface FamilySequence {
  name: string;
  /** Residues, upper case, no gaps. */
  sequence: string;
  /** The alignment row (gaps and case kept) when the family came from an alignment. */
  aligned?: string;
}

export interface ProteinFamily {
  /** Pfam's `#=GF ID`, else the file name without extensions. */
  id: string;
  accession?: string;
  description?: string;
  file: string;
  /** True when the sequences are rows of one alignment (`aligned` set). */
  aligned: boolean;
  sequences: FamilySequence[];
}

export interface ProteinFamilies {
  families: ProteinFamily[];
  /** Families read but not kept, and why. */
  excluded: { id: string; file: string; reason: string }[];
}

export interface ProteinFamilyOptions extends io.CacheOptions {
  /** Files to read (Stockholm, or FASTA when the name ends in .fa/.fasta, gzip or not). */
  files?: readonly string[];
}

/** Share of A, C, G, T, U, N above which a family is taken for nucleotides. */
const NUCLEOTIDE_SHARE = 0.9;

export function looksLikeNucleotides(sequences: readonly string[]): boolean {
  let total = 0;
  let nucleotide = 0;
  for (const sequence of sequences) {
    total += sequence.length;
    for (const char of sequence) if ('ACGTUN'.includes(char)) nucleotide++;
  }
  return total > 0 && nucleotide / total > NUCLEOTIDE_SHARE;
}

/** Every family of the files (cached as `protein-families.v1` when the default files are read). */
export async function loadProteinFamilies(options: ProteinFamilyOptions = {}): Promise<ProteinFamilies> {
  const files = options.files ?? PROTEIN_FAMILY_FILES;
  const cacheOptions = options.files === undefined ? options : { ...options, cacheDir: false as const };
  return io.cachedJSON('protein-families.v1', cacheOptions, () => readFamilies(files));
}

async function readFamilies(files: readonly string[]): Promise<ProteinFamilies> {
  const families: ProteinFamily[] = [];
  const excluded: ProteinFamilies['excluded'] = [];
  const seen = new Set<string>();
  for (const file of files) {
    for (const family of await readFamilyFile(file)) {
      if (seen.has(family.id)) {
        excluded.push({ id: family.id, file, reason: 'duplicate of a family read before' });
      } else if (looksLikeNucleotides(family.sequences.map((s) => s.sequence))) {
        excluded.push({ id: family.id, file, reason: 'nucleotide sequences, not protein' });
      } else {
        seen.add(family.id);
        families.push(family);
      }
    }
  }
  return { families, excluded };
}

async function readFamilyFile(file: string): Promise<ProteinFamily[]> {
  const stem = file.replace(/^.*\//, '').replace(/\..*$/, '');
  await requireFile(file, file.includes('hmmer2') ? 'hmmer2' : 'hmmer-examples', 'loadProteinFamilies');
  if (/\.(fa|fasta)(\.gz)?$/.test(file)) {
    const records = await readFasta({ path: file }, { gaps: 'remove' });
    const sequences = records.map((r) => ({ name: r.id, sequence: r.sequence }));
    return [{ id: stem, file, aligned: false, sequences }];
  }
  const alignments = await readStockholm({ path: file });
  return alignments.map((alignment) => {
    const annotation = (tag: string) => alignment.fileAnnotations[tag]?.join(' ');
    const family: ProteinFamily = {
      id: annotation('ID') ?? (alignments.length > 1 ? `${stem}-${alignment.line}` : stem),
      file,
      aligned: true,
      sequences: alignment.sequences.map((s) => ({
        name: s.name,
        sequence: s.sequence,
        aligned: s.aligned,
      })),
    };
    const accession = annotation('AC');
    const description = annotation('DE');
    if (accession !== undefined) family.accession = accession;
    if (description !== undefined) family.description = description;
    return family;
  });
}

export interface FamilySplit {
  id: string;
  train: FamilySequence[];
  test: FamilySequence[];
  clusters: number;
  /** 'aligned' (identity over the alignment's columns) or 'global' (Needleman-Wunsch). */
  identity: 'aligned' | 'global';
}

/**
 * Each family split by sequence identity (see identity-split.ts): aligned families by identity over
 * their alignment columns, unaligned ones (globins630) by global alignment. Cached per threshold,
 * fraction and seed (the 630 globins take ~30 s of pairwise alignments on a 2-core machine).
 */
export async function loadProteinFamilySplits(
  options: ProteinFamilyOptions & Omit<IdentitySplitOptions, 'identity'> = {},
): Promise<FamilySplit[]> {
  const threshold = options.threshold ?? 0.5;
  const testFraction = options.testFraction ?? 0.2;
  const seed = options.seed ?? 0;
  const { families } = await loadProteinFamilies(options);
  const cacheOptions = options.files === undefined ? options : { ...options, cacheDir: false as const };
  return io.cachedJSON(
    `protein-family-splits.v1.t${threshold}.f${testFraction}.s${seed}`,
    cacheOptions,
    async () =>
      families.map((family) => {
        const identity = family.aligned ? 'aligned' : 'global';
        const rows = family.sequences.map((s) => (family.aligned ? s.aligned! : s.sequence));
        const split = identitySplit(rows, { threshold, testFraction, seed, identity });
        return {
          id: family.id,
          train: split.train.map((i) => family.sequences[i]!),
          test: split.test.map((i) => family.sequences[i]!),
          clusters: split.clusters,
          identity,
        };
      }),
  );
}
