/** @multihead/vision: image io (sharp in Node, canvas in the browser), pixel transforms, Fashion-MNIST. */

export {
  fitAndPredict,
  type PixelClassifierOptions,
  type PixelDataset,
} from './baselines/pixel-classifiers.js';
export { fitPixelBaselines, NeighbourCounts, PixelHistogram } from './baselines/pixel-counts.js';
export {
  type DatasetBatchOptions,
  datasetBatch,
  datasetRgba,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
} from './data/batches.js';
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  type FashionMnistOptions,
  type ImageDataset,
  loadFashionMnist,
  splitValidation,
  type ValidationSplitOptions,
} from './data/fashion-mnist.js';
export {
  DEFAULT_MAX_IDX_BYTES,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  type IdxArray,
  type IdxData,
  type IdxType,
  readIdx,
  readIdxFileBytes,
  readIdxImages,
  readIdxLabels,
} from './data/idx.js';
export { dequantize, downsampleImages, grayPalette, quantize } from './data/pixel-tokens.js';
export { PatchEmbedding, type PatchEmbeddingOptions } from './models/patch-embedding.js';
export { type AttentionMap, attentionRollout, type RolloutGrid } from './models/rollout.js';
export { VisionTransformer, type ViTForwardDetailed, type ViTOutputs } from './models/vit.js';
export type { ResolvedViTConfig, ViTConfig } from './models/vit-config.js';
export {
  type AugmentOptions,
  augment,
  type RandomCropOptions,
  type RandomHorizontalFlipOptions,
  randomCrop,
  randomHorizontalFlip,
} from './preprocess/augment.js';
export {
  type Colormap,
  colorizeHeatmap,
  colormapColor,
  type HeatmapMap,
  type HeatmapOptions,
  heatmapOverlay,
  scaledHeatmap,
} from './preprocess/heatmap.js';
export {
  type BrowserImageSource,
  decodeImageInBrowser,
  encodePngInBrowser,
  loadImageInBrowser,
  rgbaFromBrowserImage,
  rgbaToImageData,
} from './preprocess/image-browser.js';
export {
  checkImageSize,
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
  type ImageFormat,
  type ImageHeader,
  readImageHeader,
} from './preprocess/image-header.js';
export {
  decodeImage,
  encodePng,
  loadImage,
  loadImageBatch,
  writePng,
} from './preprocess/image-node.js';
export {
  type ChannelMode,
  centerCrop,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ImageArray,
  type ImageBatch,
  normalize,
  type PreprocessOptions,
  preprocessImage,
  type RgbaImage,
  resizedSize,
  rgbaToPlanes,
  type Size,
  stackImages,
} from './preprocess/pixels.js';
export {
  type FloatImage,
  type GridOptions,
  imageArrayToRgba,
  imageGrid,
  type ToRgbaOptions,
} from './preprocess/render.js';
export { RESAMPLE_MODES, type Resample, resizePlanes } from './preprocess/resample.js';
export { imageTensor } from './preprocess/tensor.js';
export {
  createFashionTask,
  FASHION_NORMALIZATION,
  FASHION_TASK_ID,
  FASHION_TRAINING,
  FASHION_VIT,
  type FashionOptions,
  fashionTask,
} from './tasks/fashion.js';
export {
  classifyImages,
  type ImageClassifierTraining,
  type Normalization,
  trainImageClassifier,
} from './tasks/image-classifier.js';
export { fitGray, inputImage } from './tasks/image-input.js';
export { VISION_TASKS } from './tasks/index.js';
export { type PixelPreprocessing, type PixelTraining, pixelNll } from './tasks/pixel-gpt.js';
export { type PixelSampling, samplePixels } from './tasks/pixel-sampler.js';
export {
  createPixelsTask,
  PIXELS_GPT,
  PIXELS_LEVELS,
  PIXELS_SIDE,
  PIXELS_TASK_ID,
  PIXELS_TRAINING,
  type PixelsOptions,
  pixelsTask,
} from './tasks/pixels.js';
