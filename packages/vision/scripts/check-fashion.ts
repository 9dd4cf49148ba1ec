/**
 * Loads the real Fashion-MNIST (Debian dataset-fashion-mnist) through loadFashionMnist twice per split and
 * prints counts, the label histogram, the mean pixel, and the time of each load (the second one reads the
 * decompressed files from the dataset cache). The tests use a committed sample instead.
 *
 *   pnpm exec tsx scripts/check-fashion.ts            (from packages/vision; MULTIHEAD_CACHE_DIR moves the cache)
 */
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../src/index.js';

for (const split of ['train', 'test'] as const) {
  const times: number[] = [];
  let data = await loadFashionMnist({ split });
  for (let run = 0; run < 2; run++) {
    const started = performance.now();
    data = await loadFashionMnist({ split });
    times.push(performance.now() - started);
  }
  const histogram = new Array<number>(FASHION_MNIST_CLASSES.length).fill(0);
  for (const label of data.labels) histogram[label]! += 1;
  let sum = 0;
  for (const v of data.images) sum += v;
  console.log(
    `${split}: ${data.count} images ${data.height} x ${data.width}, ${data.labels.length} labels, ` +
      `mean pixel ${(sum / data.images.length).toFixed(3)}, cached loads ${times.map((t) => t.toFixed(0)).join(' / ')} ms`,
  );
  console.log(`  per class: ${FASHION_MNIST_CLASSES.map((name, i) => `${name} ${histogram[i]}`).join(', ')}`);
}
