/** The in-memory dataset a training job uses, whatever its source. */

/** One split: n samples of shape [h, w, c] (NHWC, normalised float32) and class indices. */
export interface Split {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

/** A loaded, normalised dataset. */
export interface Dataset {
  name: string;
  /** Per-sample shape: [h, w, c] for images, [d] for flat features. */
  shape: number[];
  numClasses: number;
  train: Split;
  test: Split;
  /** Training-time augmentation of this dataset (PAPER.md: CIFAR uses horizontal flips). */
  augment: "none" | "hflip";
}
