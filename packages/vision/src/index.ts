/** @multihead/vision: image io (sharp in Node, canvas in the browser), pixel transforms, Fashion-MNIST. */

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
