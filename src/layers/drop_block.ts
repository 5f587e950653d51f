/** Shared body of the DropBlock2d and DropBlock3d layers. */
import {serialization, Tensor} from '@tensorflow/tfjs-core';
import {checkDropBlockArgs, dropBlock2d, dropBlock3d} from '../ops/drop_block.ts';
import {DataFormat} from '../ops/roi_common.ts';
import {assertFiniteNumber, fail} from '../ops/validate.ts';
import {DropLayer} from './drop_layer.ts';
import {checkDataFormat, LayerArgs} from './torch_layer.ts';

/** Arguments of the {@link DropBlock2d} and {@link DropBlock3d} layers. */
export interface DropBlockLayerArgs extends LayerArgs {
  /** Drop probability, in [0, 1]. */
  p: number;
  /** Odd (checked here; the op also clamps it to the input size). */
  blockSize: number;
  /** Default 1e-6. */
  eps?: number;
  /** Default 'channelsLast': [N, ...spatial, C]; 'channelsFirst': [N, C, ...spatial]. */
  dataFormat?: DataFormat;
  /** Seed of the first training call's draw (each later call adds 1). Default null: unseeded. */
  seed?: number|null;
}

export abstract class DropBlockLayer extends DropLayer {
  readonly p: number;
  readonly blockSize: number;
  readonly eps: number;
  readonly dataFormat: DataFormat;

  constructor(args: DropBlockLayerArgs, private readonly spatialDims: 2|3) {
    super(args);
    const name = this.getClassName();
    checkDropBlockArgs(name, args.p, args.blockSize);
    if (args.blockSize % 2 === 0) fail(name, 'blockSize', `must be odd, got ${args.blockSize}`);
    this.p = args.p;
    this.blockSize = args.blockSize;
    this.eps = args.eps ?? 1e-6;
    assertFiniteNumber(name, 'eps', this.eps);
    this.dataFormat = checkDataFormat(name, args.dataFormat);
  }

  protected drop(x: Tensor, training: boolean, seed: number|undefined): Tensor {
    const args = {training, eps: this.eps, dataFormat: this.dataFormat, seed};
    return this.spatialDims === 2 ? dropBlock2d(x, this.p, this.blockSize, args) :
        dropBlock3d(x, this.p, this.blockSize, args);
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), p: this.p, blockSize: this.blockSize, eps: this.eps, dataFormat: this.dataFormat};
  }
}
