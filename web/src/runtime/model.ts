/**
 * The runtime layer's one interface: a loaded model that takes one float32 input tensor and
 * gives float32 outputs. Python: the `run`/`output_indices` of `vitruvian/models/runtime.py`.
 */

/** A loaded model with one float32 input (batch 1). */
export interface ModelRunner {
  /** The input tensor's shape, e.g. `[1, 256, 256, 3]`. */
  readonly inputShape: readonly number[];
  /** Every output's shape, in the model's order. */
  readonly outputShapes: readonly (readonly number[])[];
  /**
   * Run the model on `input` (`inputShape`'s product of values) and return copies of the
   * outputs at `outputs` (positions from {@link outputIndices}), in that order.
   */
  run(input: Float32Array, outputs: readonly number[]): Promise<Float32Array[]>;
  /** Release the model; harmless to call again. */
  close(): void;
}

/**
 * Positions of the outputs with the given shapes, in the order asked (Python:
 * `_indices_for_shapes`). Throws when a shape is missing: the file is not the model the graph
 * expects.
 */
export function outputIndices(
  model: string,
  have: readonly (readonly number[])[],
  want: readonly (readonly number[])[],
): number[] {
  const key = (shape: readonly number[]): string => shape.join("x");
  const taken = new Set<number>();
  return want.map((shape) => {
    const index = have.findIndex((s, i) => !taken.has(i) && key(s) === key(shape));
    if (index < 0) {
      throw new Error(
        `${model} has no output of shape [${shape.join(", ")}] (its outputs: ` +
          `${have.map((s) => `[${s.join(", ")}]`).join(", ")}): not the model the pose graph expects`,
      );
    }
    taken.add(index);
    return index;
  });
}
