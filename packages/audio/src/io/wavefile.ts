/**
 * wavefile 11 as one `WaveFile` class wherever we run. Node resolves the package's `main` (a UMD bundle:
 * a CommonJS module whose only export Node can see is `default`), bundlers resolve its `module` (ESM
 * source with a named `WaveFile` export); this picks whichever the loader gave us.
 */
import * as wavefileModule from 'wavefile';

type WaveFileClass = typeof wavefileModule.WaveFile;
const loaded = wavefileModule as unknown as {
  WaveFile?: WaveFileClass;
  default?: { WaveFile?: WaveFileClass };
};

export const WaveFile: WaveFileClass = (loaded.WaveFile ?? loaded.default?.WaveFile)!;
export type WaveFile = InstanceType<WaveFileClass>;
