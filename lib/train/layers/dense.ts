/** Fully connected layer y = x W + b on [n, d] inputs. */
import { tf } from "../tf.ts";
import { type Init, type Layer, type ParamStore } from "./layer.ts";

/** dense{units}. */
export class Dense implements Layer {
  readonly outShape: number[];
  readonly params: tf.Variable[];
  readonly state: tf.Variable[] = [];
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(store: ParamStore, name: string, inDim: number, units: number, init: Init) {
    this.kernel = store.param(`${name}/kernel`, [inDim, units], init);
    this.bias = store.param(`${name}/bias`, [units], { kind: "zeros" });
    this.params = [this.kernel, this.bias];
    this.outShape = [units];
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.add(tf.matMul(x as tf.Tensor2D, this.kernel as tf.Tensor2D), this.bias);
  }

  /**
   * activation(x W + b) as one _FusedMatMul kernel (the "native" backend; see ./fuse.ts). Same
   * values as apply() followed by the activation; gradient in lib/train/autodiff/overrides.ts.
   */
  applyFused(x: tf.Tensor, activation: "linear" | "relu"): tf.Tensor {
    return tf.engine().runKernel(
      tf._FusedMatMul,
      { a: x, b: this.kernel, bias: this.bias },
      { transposeA: false, transposeB: false, activation },
    ) as tf.Tensor;
  }
}
