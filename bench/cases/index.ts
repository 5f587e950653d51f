/** Every benchmark case of `npm run bench`, in report order. */
import {BenchCase} from '../harness';
import {focalLossCase} from './sigmoid_focal_loss';

export const CASES: BenchCase[] = [focalLossCase];
