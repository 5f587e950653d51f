/**
 * torchvision.models.detection.FasterRCNN, eval mode: GeneralizedRCNNTransform
 * -> backbone (BackboneWithFPN) -> RegionProposalNetwork -> RoIHeads ->
 * boxes back to the original image sizes. Weights are a whole torchvision
 * detector state_dict (tf.Tensors or HostTensors, e.g. parseTorchCheckpoint's).
 * Builders: fasterRcnnResnet50Fpn, fasterRcnnMobilenetV3LargeFpn and
 * fasterRcnnMobilenetV3Large320Fpn with torchvision 0.14.1's defaults.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Scalar, Tensor, Tensor2D, Tensor3D, Tensor4D} from '@tensorflow/tfjs-core';
import {HostTensor} from '../io/safetensors.ts';
import {MultiScaleRoIAlign} from '../layers/multi_scale_roi_align.ts';
import {AnchorGenerator} from './anchor_utils.ts';
import {resnet50Fpn} from './backbone_resnet.ts';
import {mobilenetV3LargeFpn} from './backbone_mobilenet_v3.ts';
import {BackboneWithFPN} from './backbone_utils.ts';
import {checkImages} from './check_images.ts';
import {gatherRows} from './gather_rows.ts';
import {ImageList} from './image_list.ts';
import {Detections, FastRCNNPredictor, RoIHeads, TwoMLPHead} from './roi_heads.ts';
import {concatBoxPredictionLayers, RegionProposalNetwork, RPNHead, ScoredBoxes} from './rpn.ts';
import {StateDict} from './state_dict.ts';
import {bceWithLogitsMean, boxIouHost, crossEntropyMean, DetectionTarget, FasterRCNNLosses, FasterRCNNTrainingOptions,
  matchBoxes, samplePositiveNegative, smoothL1Sum, TrainingBatch} from './training.ts';
import {GeneralizedRCNNTransform, resizeBoxes} from './transform.ts';

/** FasterRCNN's keyword arguments, camelCased; torchvision's defaults. */
export interface FasterRCNNOptions extends FasterRCNNTrainingOptions {
  /** Classes including the background; default 91. */
  numClasses?: number;
  /** Default 800 (eval uses the last of a list). */
  minSize?: number|number[];
  /** Default 1333. */
  maxSize?: number;
  /** Default [0.485, 0.456, 0.406]. */
  imageMean?: number[];
  /** Default [0.229, 0.224, 0.225]. */
  imageStd?: number[];
  /** GeneralizedRCNNTransform's size_divisible; default 32. */
  sizeDivisible?: number;
  /** GeneralizedRCNNTransform's fixed_size [width, height]; default none. */
  fixedSize?: [number, number];
  /** Anchor sizes per feature map; default ((32,), (64,), (128,), (256,), (512,)) (the mobilenet builders: their own). */
  rpnAnchorSizes?: number[][];
  /** Anchor aspect ratios per feature map; default (0.5, 1.0, 2.0) for each. */
  rpnAspectRatios?: number[][];
  /** Default 1000. */
  rpnPreNmsTopNTest?: number;
  /** Default 1000. */
  rpnPostNmsTopNTest?: number;
  /** Default 0.7. */
  rpnNmsThresh?: number;
  /** Default 0.0. */
  rpnScoreThresh?: number;
  /** Default 0.05. */
  boxScoreThresh?: number;
  /** Default 0.5. */
  boxNmsThresh?: number;
  /** Default 100. */
  boxDetectionsPerImg?: number;
  /** Default (10, 10, 5, 5). */
  bboxRegWeights?: [number, number, number, number];
}

export interface FasterRCNNArgs extends FasterRCNNOptions {
  backbone: BackboneWithFPN;
}

/** What loadStateDict used of the state_dict. */
export interface DetectorLoadReport {
  loaded: string[];
  /** Keys no weight took (BatchNorm's num_batches_tracked). */
  unused: string[];
}

/** The intermediate results of one detect call, for inspection (detectWithIntermediates). */
export interface DetectionIntermediates {
  /** The transformed, batched images. */
  imageList: ImageList;
  /** The FPN maps by name, [N, H, W, 256]. */
  features: Record<string, Tensor4D>;
  /** RPN proposals (boxes in the resized images' pixels and objectness scores) of each image. */
  proposals: ScoredBoxes[];
  /** Final detections of each image (original image pixels). */
  detections: Detections[];
}

const REPRESENTATION_SIZE = 1024;

function positiveInt(name: string, v: number) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`FasterRCNN: ${name} must be a positive integer, got ${v}`);
  return v;
}

function finite(name: string, v: number) {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`FasterRCNN: ${name} must be a number, got ${v}`);
  return v;
}

/**
 * Faster R-CNN at inference (torchvision's model.eval()): `detect(images)`
 * with HWC float32 images in [0, 1] gives torchvision's `model(images)`:
 * boxes [D, 4] (xyxy, original pixels), scores [D], labels [D] (int32).
 * Load a torchvision state_dict with loadStateDict before detecting.
 */
export class FasterRCNN {
  readonly numClasses: number;
  readonly transform: GeneralizedRCNNTransform;
  readonly backbone: BackboneWithFPN;
  readonly anchorGenerator: AnchorGenerator;
  readonly rpn: RegionProposalNetwork;
  readonly roiHeads: RoIHeads;
  private readonly rpnHead: RPNHead;
  private readonly boxHead: TwoMLPHead;
  private readonly boxPredictor: FastRCNNPredictor;
  /** The training options with their defaults filled in. */
  readonly training: Required<FasterRCNNTrainingOptions>;
  private loaded = false;
  private disposed = false;

  constructor(args: FasterRCNNArgs) {
    if (args == null || !(args.backbone instanceof BackboneWithFPN)) {
      throw new Error('FasterRCNN: args.backbone must be a BackboneWithFPN');
    }
    this.backbone = args.backbone;
    this.numClasses = positiveInt('numClasses', args.numClasses ?? 91);
    if (this.numClasses < 2) throw new Error('FasterRCNN: numClasses counts the background and must be >= 2');
    this.transform = new GeneralizedRCNNTransform({minSize: args.minSize ?? 800, maxSize: args.maxSize ?? 1333,
      imageMean: args.imageMean ?? [0.485, 0.456, 0.406], imageStd: args.imageStd ?? [0.229, 0.224, 0.225],
      sizeDivisible: args.sizeDivisible ?? 32, fixedSize: args.fixedSize, dataFormat: 'channelsLast'});
    const levels = this.backbone.featureNames.length;
    const sizes = args.rpnAnchorSizes ?? [[32], [64], [128], [256], [512]];
    const ratios = args.rpnAspectRatios ?? sizes.map(() => [0.5, 1.0, 2.0]);
    if (sizes.length !== levels) {
      throw new Error(`FasterRCNN: ${sizes.length} levels of anchor sizes for the backbone's ${levels} maps ` +
          `(${this.backbone.featureNames.join(', ')})`);
    }
    this.anchorGenerator = new AnchorGenerator(sizes, ratios);
    const perLocation = this.anchorGenerator.numAnchorsPerLocation();
    if (!perLocation.every(a => a === perLocation[0])) {
      throw new Error(`FasterRCNN: RPNHead needs the same number of anchors per location on every map, got ` +
          `[${perLocation}]`);
    }
    const c = this.backbone.outChannels;
    this.rpnHead = new RPNHead(c, perLocation[0]);
    this.rpn = new RegionProposalNetwork({anchorGenerator: this.anchorGenerator, head: this.rpnHead,
      preNmsTopN: positiveInt('rpnPreNmsTopNTest', args.rpnPreNmsTopNTest ?? 1000),
      postNmsTopN: positiveInt('rpnPostNmsTopNTest', args.rpnPostNmsTopNTest ?? 1000),
      nmsThresh: finite('rpnNmsThresh', args.rpnNmsThresh ?? 0.7),
      scoreThresh: finite('rpnScoreThresh', args.rpnScoreThresh ?? 0.0)});
    const pool = new MultiScaleRoIAlign({featmapNames: ['0', '1', '2', '3'], outputSize: 7, samplingRatio: 2});
    this.boxHead = new TwoMLPHead(c * 7 * 7, REPRESENTATION_SIZE);
    this.boxPredictor = new FastRCNNPredictor(REPRESENTATION_SIZE, this.numClasses);
    this.roiHeads = new RoIHeads({boxRoiPool: pool, boxHead: this.boxHead, boxPredictor: this.boxPredictor,
      bboxRegWeights: args.bboxRegWeights, scoreThresh: finite('boxScoreThresh', args.boxScoreThresh ?? 0.05),
      nmsThresh: finite('boxNmsThresh', args.boxNmsThresh ?? 0.5),
      detectionsPerImg: positiveInt('boxDetectionsPerImg', args.boxDetectionsPerImg ?? 100)});
    const fraction = (name: string, v: number) => {
      if (!(typeof v === 'number' && v >= 0 && v <= 1)) throw new Error(`FasterRCNN: ${name} must be in [0, 1], got ${v}`);
      return v;
    };
    this.training = {
      rpnPreNmsTopNTrain: positiveInt('rpnPreNmsTopNTrain', args.rpnPreNmsTopNTrain ?? 2000),
      rpnPostNmsTopNTrain: positiveInt('rpnPostNmsTopNTrain', args.rpnPostNmsTopNTrain ?? 2000),
      rpnFgIouThresh: fraction('rpnFgIouThresh', args.rpnFgIouThresh ?? 0.7),
      rpnBgIouThresh: fraction('rpnBgIouThresh', args.rpnBgIouThresh ?? 0.3),
      rpnBatchSizePerImage: positiveInt('rpnBatchSizePerImage', args.rpnBatchSizePerImage ?? 256),
      rpnPositiveFraction: fraction('rpnPositiveFraction', args.rpnPositiveFraction ?? 0.5),
      boxFgIouThresh: fraction('boxFgIouThresh', args.boxFgIouThresh ?? 0.5),
      boxBgIouThresh: fraction('boxBgIouThresh', args.boxBgIouThresh ?? 0.5),
      boxBatchSizePerImage: positiveInt('boxBatchSizePerImage', args.boxBatchSizePerImage ?? 512),
      boxPositiveFraction: fraction('boxPositiveFraction', args.boxPositiveFraction ?? 0.25),
    };
    for (const [fg, bg] of [['rpnFgIouThresh', 'rpnBgIouThresh'], ['boxFgIouThresh', 'boxBgIouThresh']] as const) {
      if (this.training[bg] > this.training[fg]) {
        throw new Error(`FasterRCNN: ${bg} (${this.training[bg]}) must be <= ${fg} (${this.training[fg]})`);
      }
    }
  }

  /** Every state_dict key the model takes, with torch's shape (torchvision's model.state_dict() less num_batches_tracked). */
  expectedShapes(): Record<string, number[]> {
    const c = this.backbone.outChannels;
    const a = this.rpnHead.numAnchors;
    const k = this.numClasses;
    const r = REPRESENTATION_SIZE;
    const out = this.backbone.expectedShapes('backbone.');
    const add = (key: string, w: number[]) => {
      out[`${key}.weight`] = w;
      out[`${key}.bias`] = [w[0]];
    };
    add('rpn.head.conv.0.0', [c, c, 3, 3]);
    add('rpn.head.cls_logits', [a, c, 1, 1]);
    add('rpn.head.bbox_pred', [4 * a, c, 1, 1]);
    add('roi_heads.box_head.fc6', [r, c * 7 * 7]);
    add('roi_heads.box_head.fc7', [r, r]);
    add('roi_heads.box_predictor.cls_score', [k, r]);
    add('roi_heads.box_predictor.bbox_pred', [4 * k, r]);
    return out;
  }

  /**
   * Loads a whole torchvision Faster R-CNN state_dict (tf.Tensors or
   * HostTensors by torchvision's keys). Every key and shape is checked
   * before anything is loaded: a missing key, a wrong shape, a non-float
   * tensor or (strict, the default, as torch's load_state_dict) a key the
   * model does not have (other than BatchNorm's num_batches_tracked) is an
   * Error naming the key, and the model is unchanged.
   * torchvision: `model.load_state_dict(state_dict)`.
   */
  loadStateDict(stateDict: StateDict, {strict = true}: {strict?: boolean} = {}): DetectorLoadReport {
    if (this.disposed) throw new Error('FasterRCNN: the model is disposed');
    if (stateDict == null || typeof stateDict !== 'object' || stateDict instanceof Tensor) {
      throw new Error('FasterRCNN.loadStateDict: stateDict must be an object of tensors by torchvision key');
    }
    const expected = this.expectedShapes();
    const has = (k: string) => Object.prototype.hasOwnProperty.call(stateDict, k) && stateDict[k] != null;
    for (const [key, shape] of Object.entries(expected)) {
      if (!has(key)) throw new Error(`FasterRCNN.loadStateDict: the state_dict has no '${key}'`);
      const v = stateDict[key];
      const got = v instanceof Tensor ? v.shape : (v as HostTensor).shape;
      const dtype = v instanceof Tensor ? v.dtype : (v as HostTensor).dtype;
      if (!Array.isArray(got) || !tf.util.arraysEqual(got, shape)) {
        throw new Error(`FasterRCNN.loadStateDict: '${key}' has shape [${got}], expected [${shape}]`);
      }
      if (dtype !== 'float32') throw new Error(`FasterRCNN.loadStateDict: '${key}' has dtype ${dtype}, not float32`);
      if (v instanceof Tensor ? v.isDisposed : !(ArrayBuffer.isView((v as HostTensor).values) &&
          (v as HostTensor).values.length === shape.reduce((a, b) => a * b, 1))) {
        throw new Error(`FasterRCNN.loadStateDict: '${key}' is ${v instanceof Tensor ? 'a disposed tf.Tensor' :
          `a HostTensor whose values are not a typed array of ${shape.reduce((a, b) => a * b, 1)} elements`}`);
      }
    }
    const unused = Object.keys(stateDict).filter(k => !(k in expected));
    const unexpected = unused.filter(k => !k.endsWith('num_batches_tracked'));
    if (strict && unexpected.length > 0) {
      throw new Error(`FasterRCNN.loadStateDict: unexpected key(s) ${unexpected.slice(0, 5).map(k => `'${k}'`)
          .join(', ')}${unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : ''} (strict)`);
    }
    const loaded = [
      ...this.backbone.loadStateDict(stateDict, 'backbone.'),
      ...this.rpnHead.loadStateDict(stateDict, 'rpn.head.'),
      ...this.boxHead.loadStateDict(stateDict, 'roi_heads.box_head.'),
      ...this.boxPredictor.loadStateDict(stateDict, 'roi_heads.box_predictor.'),
    ];
    this.loaded = true;
    return {loaded, unused};
  }

  /**
   * Detections of each image (HWC float32 in [0, 1], any sizes) with every
   * intermediate result; the caller disposes them all (tf.dispose on the
   * returned object's tensors, or disposeIntermediates).
   */
  async detectWithIntermediates(images: Tensor3D[]): Promise<DetectionIntermediates> {
    this.checkReady('detect');
    checkImages('FasterRCNN.detect', images, this.transform);
    const originalSizes = images.map(i => [i.shape[0], i.shape[1]] as [number, number]);
    const {imageList} = this.transform.forward(images);
    let features: Record<string, Tensor4D>|null = null;
    let proposals: ScoredBoxes[]|null = null;
    try {
      features = this.backbone.forward(imageList.tensors);
      proposals = await this.rpn.forward(imageList, features);
      const raw = await this.roiHeads.forward(features, proposals.map(p => p.boxes), imageList.imageSizes);
      const detections = raw.map((d, i) => {
        const boxes = resizeBoxes(d.boxes, imageList.imageSizes[i], originalSizes[i]);
        d.boxes.dispose();
        return {...d, boxes};
      });
      return {imageList, features, proposals, detections};
    } catch (e) {
      tf.dispose([imageList.tensors, ...Object.values(features ?? {}),
        ...(proposals ?? []).flatMap(p => [p.boxes, p.scores])]);
      throw e;
    }
  }

  /**
   * Detections of each image: HWC float32 images in [0, 1] (any sizes) ->
   * boxes [D, 4] (xyxy in the image's pixels), scores [D] (decreasing),
   * labels [D] (int32, 1..numClasses - 1). torchvision: `model(images)` in eval mode.
   */
  async detect(images: Tensor3D[]): Promise<Detections[]> {
    const r = await this.detectWithIntermediates(images);
    disposeIntermediates(r, false);
    return r.detections;
  }

  /**
   * The trainable variables (after loadStateDict): backbone body (convs with
   * their norms folded into a scale and a shift), FPN, RPN head, box head and
   * predictor. Pass them to an optimizer with trainingLosses.
   */
  trainableVariables(): tf.Variable[] {
    return Object.values(this.namedVariables());
  }

  /**
   * The trainable variables by torchvision state_dict key, in tfjs layouts
   * (conv kernels HWIO, depthwise [k, k, C, 1], Linear [in, out]); a
   * backbone norm's '.weight' and '.bias' are its folded scale and shift.
   */
  namedVariables(): Record<string, tf.Variable> {
    this.checkReady('namedVariables');
    return {...this.backbone.namedVariables('backbone.'), ...this.rpnHead.namedVariables('rpn.head.'),
      ...this.boxHead.namedVariables('roi_heads.box_head.'), ...this.boxPredictor.namedVariables('roi_heads.box_predictor.')};
  }

  /**
   * The weights as a torchvision state_dict (new tensors the caller owns;
   * every key of expectedShapes, in torch's layouts): loadStateDict and
   * torch's load_state_dict take it back. Backbone norms come out folded
   * (weight = scale, bias = shift, running_mean 0, running_var 1 - eps).
   * torchvision: `model.state_dict()`.
   */
  stateDict(): Record<string, Tensor> {
    this.checkReady('stateDict');
    return {...this.backbone.stateDict('backbone.'), ...this.rpnHead.stateDict('rpn.head.'),
      ...this.boxHead.stateDict('roi_heads.box_head.'), ...this.boxPredictor.stateDict('roi_heads.box_predictor.')};
  }

  private checkReady(op: string) {
    if (this.disposed) throw new Error(`FasterRCNN.${op}: the model is disposed`);
    if (!this.loaded) throw new Error(`FasterRCNN.${op}: call loadStateDict first`);
  }

  /**
   * The part of a training step that takes no gradients, as torchvision's
   * train-mode forward computes it: transform (images and target boxes), the
   * RPN's proposals (training's pre/post NMS top-n), anchors matched to the
   * targets (Matcher(rpnFgIouThresh, rpnBgIouThresh, low-quality matches))
   * and sampled (rpnBatchSizePerImage, rpnPositiveFraction), the targets
   * appended to the proposals, matched (Matcher(boxFgIouThresh,
   * boxBgIouThresh)) and sampled (boxBatchSizePerImage, boxPositiveFraction),
   * with the regression targets of the positives. `random` draws the samples
   * (torch.randperm's role; default Math.random). Then trainingLosses(batch)
   * inside optimizer.minimize, and disposeTrainingBatch(batch).
   */
  async prepareTraining(images: Tensor3D[], targets: DetectionTarget[],
      {random = Math.random}: {random?: () => number} = {}): Promise<TrainingBatch> {
    this.checkReady('prepareTraining');
    checkImages('FasterRCNN.prepareTraining', images, this.transform);
    if (typeof random !== 'function') throw new Error('FasterRCNN.prepareTraining: random must be a function');
    const gtLabels = await this.checkTargets(images, targets);
    const t = this.training;
    const {imageList, targets: resized} = this.transform.forward(images, targets.map(x => ({boxes: x.boxes})),
        {random});
    const owned: Tensor[] = resized!.map(r => r.boxes);
    const made: Tensor[] = [];
    let done = false;
    try {
      const features = this.backbone.forward(imageList.tensors);
      const maps = this.backbone.featureNames.map(n => features[n]);
      owned.push(...maps);
      const {logits, bboxReg} = this.rpnHead.forward(maps);
      owned.push(...logits, ...bboxReg);
      const anchors = this.anchorGenerator.forward(imageList, maps);
      owned.push(...anchors);
      const proposals = await this.rpn.fromHeadOutputs(imageList, maps, logits, bboxReg,
          {pre: t.rpnPreNmsTopNTrain, post: t.rpnPostNmsTopNTrain});
      owned.push(...proposals.flatMap(p => [p.boxes, p.scores]));
      const numClasses = this.numClasses;
      const rpn = {sampled: [] as number[], labels: [] as number[], positive: [] as number[], gt: [] as number[],
        anchors: [] as number[], pos: [] as number[], neg: [] as number[]};
      const box = {proposals: [] as Tensor2D[], labels: [] as number[], rows: [] as number[], gt: [] as number[],
        boxes: [] as number[], pos: [] as number[], neg: [] as number[]};
      for (let i = 0; i < images.length; i++) {
        const gt = await resized![i].boxes.data() as Float32Array;
        const g = gt.length / 4;
        const anchor = await anchors[i].data() as Float32Array;
        const a = anchor.length / 4;
        const matches = g === 0 ? new Int32Array(a).fill(-1) :
            matchBoxes(boxIouHost(gt, anchor), g, a, t.rpnFgIouThresh, t.rpnBgIouThresh, true);
        const rpnLabels = Array.from(matches, m => (m >= 0 ? 1 : m === -1 ? 0 : -1));
        const s = samplePositiveNegative(rpnLabels, t.rpnBatchSizePerImage, t.rpnPositiveFraction, random);
        for (const j of s.positive) {
          rpn.positive.push(i * a + j);
          rpn.gt.push(...gt.subarray(4 * matches[j], 4 * matches[j] + 4));
          rpn.anchors.push(...anchor.subarray(4 * j, 4 * j + 4));
        }
        for (const j of [...s.positive, ...s.negative]) {
          rpn.sampled.push(i * a + j);
          rpn.labels.push(rpnLabels[j]);
        }
        rpn.pos.push(s.positive.length);
        rpn.neg.push(s.negative.length);

        const props = await proposals[i].boxes.data() as Float32Array;
        const candidates = new Float32Array(props.length + gt.length);
        candidates.set(props);
        candidates.set(gt, props.length);
        const k = candidates.length / 4;
        const boxMatches = g === 0 ? new Int32Array(k).fill(-1) :
            matchBoxes(boxIouHost(gt, candidates), g, k, t.boxFgIouThresh, t.boxBgIouThresh, false);
        const labels = Array.from(boxMatches, m => (m >= 0 ? gtLabels[i][m] : m === -1 ? 0 : -1));
        const b = samplePositiveNegative(labels, t.boxBatchSizePerImage, t.boxPositiveFraction, random);
        const sampled = [...b.positive, ...b.negative].sort((x, y) => x - y);
        const chosen: number[] = [];
        for (const j of sampled) {
          chosen.push(...candidates.subarray(4 * j, 4 * j + 4));
          if (labels[j] > 0) {
            box.rows.push((box.labels.length) * numClasses + labels[j]);
            box.gt.push(...gt.subarray(4 * boxMatches[j], 4 * boxMatches[j] + 4));
            box.boxes.push(...candidates.subarray(4 * j, 4 * j + 4));
          }
          box.labels.push(labels[j]);
        }
        box.proposals.push(tf.tensor2d(chosen, [sampled.length, 4]));
        made.push(box.proposals[box.proposals.length - 1]);
        box.pos.push(b.positive.length);
        box.neg.push(b.negative.length);
      }
      const pairs = (values: number[]) => tf.tensor2d(values, [values.length / 4, 4]);
      const batch: TrainingBatch = {
        images: imageList.tensors,
        imageSizes: imageList.imageSizes,
        rpnSampled: tf.tensor1d(rpn.sampled, 'int32'),
        rpnLabels: tf.tensor1d(rpn.labels, 'float32'),
        rpnPositive: tf.tensor1d(rpn.positive, 'int32'),
        rpnTargets: tf.tidy(() => this.rpn.boxCoder.encodeSingle(pairs(rpn.gt), pairs(rpn.anchors))),
        proposals: box.proposals,
        labels: tf.tensor1d(box.labels, 'int32'),
        boxPositiveRows: tf.tensor1d(box.rows, 'int32'),
        boxTargets: tf.tidy(() => this.roiHeads.boxCoder.encodeSingle(pairs(box.gt), pairs(box.boxes))),
        counts: {rpnPositive: rpn.pos, rpnNegative: rpn.neg, boxPositive: box.pos, boxNegative: box.neg},
      };
      done = true;
      return batch;
    } finally {
      tf.dispose(owned);
      if (!done) tf.dispose([imageList.tensors, ...made]);
    }
  }

  /** Targets checked as torchvision's check_targets (and finite boxes, labels in [0, numClasses)); their labels read. */
  private async checkTargets(images: Tensor3D[], targets: DetectionTarget[]): Promise<number[][]> {
    const op = 'FasterRCNN.prepareTraining';
    if (!Array.isArray(targets) || targets.length !== images.length) {
      throw new Error(`${op}: targets must be an array with one {boxes, labels} per image (${images.length})`);
    }
    const labels: number[][] = [];
    for (const [i, target] of targets.entries()) {
      const {boxes, labels: l} = target ?? {} as DetectionTarget;
      if (!(boxes instanceof Tensor) || boxes.isDisposed || boxes.rank !== 2 || boxes.shape[1] !== 4 ||
          boxes.dtype !== 'float32') {
        throw new Error(`${op}: targets[${i}].boxes must be a float32 tensor of shape [G, 4]`);
      }
      if (!(l instanceof Tensor) || l.isDisposed || l.rank !== 1 || l.shape[0] !== boxes.shape[0] || l.dtype !== 'int32') {
        throw new Error(`${op}: targets[${i}].labels must be an int32 tensor of shape [${boxes.shape[0]}]`);
      }
      const b = await boxes.data();
      for (let j = 0; j < b.length; j += 4) {
        if (![0, 1, 2, 3].every(c => Number.isFinite(b[j + c])) || b[j + 2] <= b[j] || b[j + 3] <= b[j + 1]) {
          throw new Error(`${op}: all bounding boxes should have positive height and width and be finite; found ` +
              `invalid box [${Array.from(b.subarray(j, j + 4))}] for targets[${i}]`);
        }
      }
      const values = Array.from(await l.data());
      const bad = values.find(v => !(v >= 0 && v < this.numClasses));
      if (bad !== undefined) {
        throw new Error(`${op}: targets[${i}].labels must be in [0, ${this.numClasses}) (numClasses), got ${bad}`);
      }
      labels.push(values);
    }
    return labels;
  }

  /**
   * The four training losses of a prepared batch, differentiable with
   * respect to trainableVariables() (synchronous: call it inside
   * optimizer.minimize or tf.variableGrads). Objectness: binary cross-entropy
   * over the sampled anchors; RPN boxes: smooth L1 (beta 1/9) over the
   * positive anchors / sampled anchors; classifier: cross-entropy over the
   * sampled proposals; boxes: smooth L1 (beta 1/9) of each positive's own
   * class / sampled proposals. torchvision: `model(images, targets)` in
   * train mode (norms frozen).
   */
  trainingLosses(batch: TrainingBatch): FasterRCNNLosses {
    this.checkReady('trainingLosses');
    const pool = this.roiHeads.boxRoiPool!;
    return tf.tidy(() => {
      const features = this.backbone.forward(batch.images);
      const maps = this.backbone.featureNames.map(n => features[n]);
      const {logits, bboxReg} = this.rpnHead.forward(maps);
      const {boxCls, boxRegression} = concatBoxPredictionLayers(logits, bboxReg, this.rpnHead.dataFormat);
      const lossObjectness = bceWithLogitsMean(gatherRows(tf.reshape(boxCls, [-1]), batch.rpnSampled), batch.rpnLabels);
      const lossRpnBoxReg = tf.div(smoothL1Sum(gatherRows(boxRegression, batch.rpnPositive), batch.rpnTargets, 1 / 9),
          batch.rpnSampled.shape[0]) as Scalar;
      const pooled = pool.forward(features, batch.proposals, batch.imageSizes);
      const {scores, bboxDeltas} = this.boxPredictor.forward(this.boxHead.forward(pooled));
      const lossClassifier = crossEntropyMean(scores, batch.labels);
      const perClass = tf.reshape(bboxDeltas, [-1, 4]);
      const lossBoxReg = tf.div(smoothL1Sum(gatherRows(perClass, batch.boxPositiveRows), batch.boxTargets, 1 / 9),
          batch.labels.shape[0]) as Scalar;
      return {lossClassifier, lossBoxReg, lossObjectness, lossRpnBoxReg};
    });
  }

  /** Frees every weight; the model cannot be used afterwards. */
  dispose() {
    if (this.disposed) return;
    this.disposed = true;
    this.backbone.dispose();
    this.rpnHead.dispose();
    this.boxHead.dispose();
    this.boxPredictor.dispose();
  }
}

/** Disposes the intermediates of detectWithIntermediates (and the detections unless keepDetections). */
export function disposeIntermediates(r: DetectionIntermediates, disposeDetections = true) {
  tf.dispose([r.imageList.tensors, ...Object.values(r.features), ...r.proposals.flatMap(p => [p.boxes, p.scores])]);
  if (disposeDetections) tf.dispose(r.detections.flatMap(d => [d.boxes, d.scores, d.labels]));
}

/** Options of fasterRcnnResnet50Fpn: FasterRCNN's, plus the backbone's norm eps. */
export interface FasterRCNNResnet50FpnOptions extends FasterRCNNOptions {
  /**
   * eps of the backbone's norms; default 1e-5 (torchvision with weights=None
   * or weights_backbone only). torchvision's COCO_V1 weights run with 0
   * (fasterrcnn_resnet50_fpn calls overwrite_eps(model, 0.0)): pass 0 for them.
   */
  backboneNormEps?: number;
}

/**
 * Faster R-CNN with a ResNet-50-FPN backbone, as torchvision's
 * fasterrcnn_resnet50_fpn(weights=None, num_classes, **kwargs): FasterRCNN's
 * defaults (numClasses 91, minSize 800, maxSize 1333, anchors 32..512 one
 * per level, rpnScoreThresh 0, ...). Load its state_dict with loadStateDict.
 */
export function fasterRcnnResnet50Fpn(options: FasterRCNNResnet50FpnOptions = {}): FasterRCNN {
  const {backboneNormEps, ...rest} = options ?? {};
  return withBackbone(resnet50Fpn({normEps: backboneNormEps}), backbone => new FasterRCNN({...given(rest), backbone}));
}

/** build(backbone), disposing the backbone (its FPN's weights) when build throws (an invalid option). */
function withBackbone(backbone: BackboneWithFPN, build: (backbone: BackboneWithFPN) => FasterRCNN): FasterRCNN {
  try {
    return build(backbone);
  } catch (e) {
    backbone.dispose();
    throw e;
  }
}

/** The options given (undefined ones dropped, so they leave the builder's defaults). */
function given<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const MOBILENET_ANCHORS = {
  rpnAnchorSizes: [0, 1, 2].map(() => [32, 64, 128, 256, 512]),
  rpnAspectRatios: [0, 1, 2].map(() => [0.5, 1.0, 2.0]),
};

/**
 * Faster R-CNN with a MobileNetV3-Large-FPN backbone, as torchvision's
 * fasterrcnn_mobilenet_v3_large_fpn(weights=None, num_classes, **kwargs):
 * anchors (32, 64, 128, 256, 512) x (0.5, 1, 2) on each of the 3 maps,
 * rpnScoreThresh 0.05, otherwise FasterRCNN's defaults.
 */
export function fasterRcnnMobilenetV3LargeFpn(options: FasterRCNNOptions = {}): FasterRCNN {
  return withBackbone(mobilenetV3LargeFpn(), backbone =>
    new FasterRCNN({...MOBILENET_ANCHORS, rpnScoreThresh: 0.05, ...given(options), backbone}));
}

/**
 * torchvision's fasterrcnn_mobilenet_v3_large_320_fpn: the same model with
 * minSize 320, maxSize 640, rpnPreNmsTopNTest 150, rpnPostNmsTopNTest 150, rpnScoreThresh 0.05.
 */
export function fasterRcnnMobilenetV3Large320Fpn(options: FasterRCNNOptions = {}): FasterRCNN {
  return withBackbone(mobilenetV3LargeFpn(), backbone => new FasterRCNN({...MOBILENET_ANCHORS, minSize: 320,
    maxSize: 640, rpnPreNmsTopNTest: 150, rpnPostNmsTopNTest: 150, rpnScoreThresh: 0.05, ...given(options), backbone}));
}
