/** Element-wise activations: relu, tanh, sigmoid, leakyRelu{alpha}. */
import { tf } from "../tf.ts";
import type { Layer } from "./layer.ts";

/** Names of the parameter-free element-wise activations. */
export type ActivationName = "relu" | "tanh" | "sigmoid" | "leakyRelu";

/** An activation layer. */
export class Activation implements Layer {
  readonly params: tf.Variable[] = [];
  readonly state: tf.Variable[] = [];

  constructor(readonly outShape: number[], readonly fn: ActivationName, readonly alpha = 0.01) {}

  apply(x: tf.Tensor): tf.Tensor {
    switch (this.fn) {
      case "relu":
        return tf.relu(x);
      case "tanh":
        return tf.tanh(x);
      case "sigmoid":
        return tf.sigmoid(x);
      case "leakyRelu":
        return tf.leakyRelu(x, this.alpha);
    }
  }
}
