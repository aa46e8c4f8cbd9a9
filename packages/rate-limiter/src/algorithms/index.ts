import type { Algorithm } from '../types.js';
import type { AlgorithmImpl } from './algorithm.js';
import { fixedWindow } from './fixed-window.js';
import { gcra } from './gcra.js';
import { leakyBucket } from './leaky-bucket.js';
import { slidingWindow } from './sliding-window.js';
import { tokenBucket } from './token-bucket.js';

export const algorithms: Record<Algorithm, AlgorithmImpl<any>> = {
  'token-bucket': tokenBucket,
  'leaky-bucket': leakyBucket,
  'fixed-window': fixedWindow,
  'sliding-window': slidingWindow,
  gcra,
};

export const ALGORITHM_NAMES = Object.keys(algorithms) as Algorithm[];
