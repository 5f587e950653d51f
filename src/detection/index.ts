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
