/**
 * Model files: which file each model is, where it is fetched from, and the sha256 check before
 * use. Python: `vitruvian/models/assets.py` (whose `manifest.json` the digests come from).
 *
 * Files are located as `@mediapipe/pose` locates them: `locateFile(file, prefix)` turns the
 * npm package's file name (`pose_solution_packed_assets.data` for the detector,
 * `pose_landmark_{lite,full,heavy}.tflite`) into a URL, so a folder holding the
 * `@mediapipe/pose` npm package's files works as it is.
 */

import { MODEL_FILES, MODEL_PACKAGE, type ModelFile } from "./generated/model_files.js";

export { MODEL_FILES, MODEL_PACKAGE };
export type { ModelFile };

/** `locateFile` as `@mediapipe/pose` calls it: a file name (and a prefix) to a URL. */
export type LocateFile = (file: string, prefix?: string) => string;

/** A model file that is missing, unreadable or not the pinned one. */
export class ModelFileError extends Error {
  override name = "ModelFileError";
}

/** The landmark model for a `modelComplexity` (0 lite, 1 full, 2 heavy). */
export function landmarkModelName(complexity: number): string {
  const names = ["pose_landmark_lite", "pose_landmark_full", "pose_landmark_heavy"];
  const name = names[complexity];
  if (!Number.isInteger(complexity) || name === undefined) {
    throw new RangeError(`modelComplexity must be 0, 1 or 2, got ${String(complexity)}`);
  }
  return name;
}

/** The pinned file of model `name` (e.g. `pose_detection`). */
export function modelFile(name: string): ModelFile {
  const entry = MODEL_FILES[name];
  if (entry === undefined) throw new Error(`unknown model ${name}`);
  return entry;
}

/** Lower-case hex sha256 of `bytes` (Web Crypto). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const fix =
  `put the files of the npm package ${MODEL_PACKAGE} there (e.g. \`vitruvian web\` prepares ` +
  "such a folder), or make locateFile return where they are";

/**
 * Fetch model `name` from `locateFile(file, "")` and check its sha256 against the pinned
 * digests. Rejects with a {@link ModelFileError} naming the file, the URL and the fix when the
 * file cannot be fetched, is missing (HTTP error) or is not the pinned file.
 */
export async function fetchModel(name: string, locateFile: LocateFile): Promise<Uint8Array> {
  const { file, sha256 } = modelFile(name);
  const url = locateFile(file, "");
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new ModelFileError(`cannot fetch model file ${file} from ${url} (${String(error)}): ${fix}`);
  }
  if (!response.ok) {
    throw new ModelFileError(
      `model file ${file} not found at ${url} (HTTP ${response.status}): ${fix}`,
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const digest = await sha256Hex(bytes);
  if (!sha256.includes(digest)) {
    throw new ModelFileError(
      `model file ${file} from ${url} is not the pinned ${name} model (sha256 ${digest}, ` +
        `${bytes.length} bytes; expected ${sha256.join(" or ")}): it is damaged or another ` +
        `version; ${fix}`,
    );
  }
  return bytes;
}
