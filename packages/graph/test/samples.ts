/** Committed samples shared by the task tests. */
import { loadProteinFamilySplits } from '../src/data/protein-families.js';

export const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** Three small families (globins4, Caudal_act, six globins of globins630) split at 50% identity, 30% test. */
export const SAMPLE_FAMILIES = () =>
  loadProteinFamilySplits({
    files: [fixture('globins4.sto'), fixture('Caudal_act.sto.gz'), fixture('globins-sample.fa')],
    cacheDir: false,
    testFraction: 0.3,
  });
