/** torchvision.models.detection's inference pieces (eval mode), with torchvision 0.14.1's semantics. */
export {AnchorGenerator, generateAnchors} from './anchor_utils.ts';
export {BBOX_XFORM_CLIP, BoxCoder} from './box_coder.ts';
export type {BoxCoderWeights} from './box_coder.ts';
export type {ImageList} from './image_list.ts';
export {FastRCNNPredictor, RoIHeads, TwoMLPHead} from './roi_heads.ts';
export type {Detections, RoIHeadsArgs} from './roi_heads.ts';
export {concatBoxPredictionLayers, RegionProposalNetwork, RPNHead} from './rpn.ts';
export type {RegionProposalNetworkArgs, ScoredBoxes} from './rpn.ts';
export {GeneralizedRCNNTransform, resizeBilinear, resizeBoxes, resizedImageSize} from './transform.ts';
export type {BoxesOf, GeneralizedRCNNTransformArgs} from './transform.ts';
export {BackboneWithFPN} from './backbone_utils.ts';
export type {BackboneBody} from './backbone_utils.ts';
export {RESNET50_LAYERS, ResNetBody, resnet50Fpn} from './backbone_resnet.ts';
export type {ResNetBodyArgs} from './backbone_resnet.ts';
export {makeDivisible, MobileNetV3LargeBody, mobilenetV3LargeFpn} from './backbone_mobilenet_v3.ts';
export type {MobileNetV3BodyArgs} from './backbone_mobilenet_v3.ts';
export {ConvBank} from './conv_bank.ts';
export type {ConvDef} from './conv_bank.ts';
export {disposeIntermediates, FasterRCNN, fasterRcnnMobilenetV3Large320Fpn, fasterRcnnMobilenetV3LargeFpn,
  fasterRcnnResnet50Fpn} from './faster_rcnn.ts';
export type {DetectionIntermediates, DetectorLoadReport, FasterRCNNArgs, FasterRCNNOptions,
  FasterRCNNResnet50FpnOptions} from './faster_rcnn.ts';
export {bceWithLogitsMean, BELOW_LOW_THRESHOLD, BETWEEN_THRESHOLDS, boxIouHost, crossEntropyMean, disposeTrainingBatch,
  matchBoxes, samplePositiveNegative, smoothL1Sum} from './training.ts';
export type {DetectionTarget, FasterRCNNLosses, FasterRCNNTrainingOptions, TrainingBatch} from './training.ts';
export type {ProposalTopN} from './rpn.ts';
