/**
 * Datasets for demos and experiments: IDX parsing, checksum-verified downloads, MNIST,
 * Fashion-MNIST, CIFAR-10 and uploaded `.npz` datasets, all behind {@linkcode loadDataset}.
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
export type { Dataset, Split } from "./dataset.ts";
export { datasetCacheDir, loadDataset, type LoadDatasetOptions } from "./datasets.ts";
export {
  CIFAR10,
  CIFAR10_CLASS_NAMES,
  CIFAR10_CLASSES,
  CIFAR10_EXTRACTED_DIR,
  CIFAR10_PIXELS,
  CIFAR10_RECORD,
  CIFAR10_SIDE,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  type Cifar10Descriptor,
  downloadCifar10,
  type DownloadCifar10Options,
  extractArchive,
  loadCifar10,
  type LoadCifar10Options,
} from "./cifar10.ts";
export { gunzipStream, readTar, type ReadTarOptions, type TarEntry } from "./tar.ts";
export {
  datasetFromNpz,
  loadUploadDataset,
  UPLOAD_TEST_FRACTION,
  type UploadOptions,
} from "./upload.ts";
