/**
 * Datasets for demos and experiments: IDX parsing, checksum-verified downloads, MNIST and
 * Fashion-MNIST.
 *
 * @module
 */

export { isGzip, maybeGunzip, parseIdx, readIdxFile } from "./idx.ts";
export {
  fetchVerified,
  type FetchVerifiedOptions,
  type FetchVerifiedResult,
  md5File,
} from "./download.ts";
export {
  type DatasetDescriptor,
  type DatasetFile,
  downloadDataset,
  embeddedMnistDir,
  FASHION_MNIST,
  loadMnist,
  type LoadMnistOptions,
  MNIST,
  MNIST_CLASSES,
  MNIST_PIXELS,
  MNIST_SIDE,
  type MnistData,
} from "./mnist.ts";
