/**
 * The landmark names and skeleton `@mediapipe/pose` exports, with the values its runtime has
 * (read from `pose.js` of `@mediapipe/pose@0.5.1675469404`). Its `.d.ts` differs from its runtime
 * (e.g. it declares `RIGHT_EYE_INNER` before `LEFT_EYE_INNER`); code written against the real
 * package sees these values, including the keys `LEFT_RIGHT` (9) and `RIGHT_LEFT` (10) for the
 * mouth corners. Python: `PoseLandmark` and `POSE_CONNECTIONS` of `vitruvian.solutions.pose`.
 */

/** The version of `@mediapipe/pose` whose API this package reproduces. */
export const VERSION = "0.5.1675469404";

/** Pairs of landmark indices joined by the skeleton's lines. */
export const POSE_CONNECTIONS: Array<[number, number]> = [
  [0, 1], [1, 2], [2, 3], [3, 7], [0, 4], [4, 5], [5, 6], [6, 8], [9, 10], [11, 12], [11, 13],
  [13, 15], [15, 17], [15, 19], [15, 21], [17, 19], [12, 14], [14, 16], [16, 18], [16, 20],
  [16, 22], [18, 20], [11, 23], [12, 24], [23, 24], [23, 25], [24, 26], [25, 27], [26, 28],
  [27, 29], [28, 30], [29, 31], [30, 32], [27, 31], [28, 32],
];

/** Every landmark's index by name. */
export const POSE_LANDMARKS = {
  NOSE: 0, LEFT_EYE_INNER: 1, LEFT_EYE: 2, LEFT_EYE_OUTER: 3, RIGHT_EYE_INNER: 4, RIGHT_EYE: 5,
  RIGHT_EYE_OUTER: 6, LEFT_EAR: 7, RIGHT_EAR: 8, LEFT_RIGHT: 9, RIGHT_LEFT: 10,
  LEFT_SHOULDER: 11, RIGHT_SHOULDER: 12, LEFT_ELBOW: 13, RIGHT_ELBOW: 14, LEFT_WRIST: 15,
  RIGHT_WRIST: 16, LEFT_PINKY: 17, RIGHT_PINKY: 18, LEFT_INDEX: 19, RIGHT_INDEX: 20,
  LEFT_THUMB: 21, RIGHT_THUMB: 22, LEFT_HIP: 23, RIGHT_HIP: 24, LEFT_KNEE: 25, RIGHT_KNEE: 26,
  LEFT_ANKLE: 27, RIGHT_ANKLE: 28, LEFT_HEEL: 29, RIGHT_HEEL: 30, LEFT_FOOT_INDEX: 31,
  RIGHT_FOOT_INDEX: 32,
} as const;

/** The landmarks on the person's left side. */
export const POSE_LANDMARKS_LEFT = {
  LEFT_EYE_INNER: 1, LEFT_EYE: 2, LEFT_EYE_OUTER: 3, LEFT_EAR: 7, LEFT_RIGHT: 9,
  LEFT_SHOULDER: 11, LEFT_ELBOW: 13, LEFT_WRIST: 15, LEFT_PINKY: 17, LEFT_INDEX: 19,
  LEFT_THUMB: 21, LEFT_HIP: 23, LEFT_KNEE: 25, LEFT_ANKLE: 27, LEFT_HEEL: 29,
  LEFT_FOOT_INDEX: 31,
} as const;

/** The landmarks on the person's right side. */
export const POSE_LANDMARKS_RIGHT = {
  RIGHT_EYE_INNER: 4, RIGHT_EYE: 5, RIGHT_EYE_OUTER: 6, RIGHT_EAR: 8, RIGHT_LEFT: 10,
  RIGHT_SHOULDER: 12, RIGHT_ELBOW: 14, RIGHT_WRIST: 16, RIGHT_PINKY: 18, RIGHT_INDEX: 20,
  RIGHT_THUMB: 22, RIGHT_HIP: 24, RIGHT_KNEE: 26, RIGHT_ANKLE: 28, RIGHT_HEEL: 30,
  RIGHT_FOOT_INDEX: 32,
} as const;

/** The landmarks on neither side. */
export const POSE_LANDMARKS_NEUTRAL = { NOSE: 0 } as const;
