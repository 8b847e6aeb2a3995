/**
 * `vitruvian run --out` tables (JSON Lines or CSV) read in the browser, so that results computed
 * by the Python command can be played back over their video. The columns are those of
 * `vitruvian/io/records.py`: `source, frame, timestamp_s, image_width, image_height,
 * pose_present, presence_score`, then `<name>_x, _y, _z, _visibility, _presence` for the 33
 * landmarks in MediaPipe's order, then `<name>_world_x, _world_y, _world_z` (metres). The
 * landmark order is taken from the header (the columns are written in landmark order), so the
 * names live only in the Python package.
 */

import type { NormalizedLandmark } from "./solutions/pose.js";

/** One row: a frame (or image) and its pose, if one was found. */
export interface RunFrame {
  source: string;
  /** 0-based frame index within its source. */
  frame: number;
  /** Seconds from the start of a video (null for images). */
  timestampS: number | null;
  imageWidth: number;
  imageHeight: number;
  /** 33 landmarks normalised to the image (as `results.poseLandmarks`), or null. */
  landmarks: NormalizedLandmark[] | null;
  /** 33 world landmarks in metres, hip-centred (as `results.poseWorldLandmarks`), or null. */
  worldLandmarks: NormalizedLandmark[] | null;
}

/** A table that is not `vitruvian run` output; the message names what is wrong. */
export class RunOutputError extends Error {
  override name = "RunOutputError";
}

const LANDMARKS = 33;
type Row = Record<string, unknown>;

/**
 * The rows of a `vitruvian run` table, in file order. `format` defaults to JSON Lines when the
 * text starts with `{`, else CSV.
 */
export function parseRunOutput(text: string, format?: "jsonl" | "csv"): RunFrame[] {
  const kind = format ?? (text.trimStart().startsWith("{") ? "jsonl" : "csv");
  const { header, rows } = kind === "jsonl" ? readJsonLines(text) : readCsv(text);
  const columns = landmarkColumns(header);
  return rows.map((row, i) => toFrame(row, columns, i));
}

/**
 * The row to show at `timeS` seconds of a video: the last one at or before it (rows of one
 * source, sorted by time). Null before the first.
 */
export function frameAt(frames: readonly RunFrame[], timeS: number): RunFrame | null {
  let low = 0;
  let high = frames.length - 1;
  let found: RunFrame | null = null;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const frame = frames[middle] as RunFrame;
    if ((frame.timestampS ?? 0) <= timeS + 1e-6) {
      found = frame;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

interface Columns {
  image: string[];
  world: string[];
}

function landmarkColumns(header: readonly string[]): Columns {
  for (const name of ["source", "frame", "pose_present", "image_width", "image_height"]) {
    if (!header.includes(name)) {
      throw new RunOutputError(`not a vitruvian run table: no "${name}" column`);
    }
  }
  const world = header
    .filter((c) => c.endsWith("_world_x"))
    .map((c) => c.slice(0, -"_world_x".length));
  const image = header
    .filter((c) => c.endsWith("_x") && !c.endsWith("_world_x"))
    .map((c) => c.slice(0, -"_x".length));
  if (image.length !== LANDMARKS || world.length !== LANDMARKS) {
    throw new RunOutputError(
      `not a vitruvian run table: ${image.length} landmark and ${world.length} world-landmark ` +
        `column groups, expected ${LANDMARKS} of each`,
    );
  }
  return { image, world };
}

function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function toFrame(row: Row, columns: Columns, index: number): RunFrame {
  const flag = row.pose_present;
  const present = flag === true || flag === "True" || flag === "true";
  const read = (name: string, fields: readonly string[]): NormalizedLandmark => {
    const [x, y, z, visibility] = fields.map((f) => numberOrNull(row[`${name}_${f}`]));
    if (x === null || y === null || z === null) {
      throw new RunOutputError(`row ${index + 1}: pose_present but no value for ${name}`);
    }
    return visibility === undefined || visibility === null ? { x, y, z } : { x, y, z, visibility };
  };
  return {
    source: String(row.source ?? ""),
    frame: numberOrNull(row.frame) ?? index,
    timestampS: numberOrNull(row.timestamp_s),
    imageWidth: numberOrNull(row.image_width) ?? 0,
    imageHeight: numberOrNull(row.image_height) ?? 0,
    landmarks: present ? columns.image.map((n) => read(n, ["x", "y", "z", "visibility"])) : null,
    worldLandmarks: present
      ? columns.world.map((n) => read(n, ["world_x", "world_y", "world_z", "visibility"]))
      : null,
  };
}

function readJsonLines(text: string): { header: string[]; rows: Row[] } {
  const rows: Row[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      rows.push(JSON.parse(line) as Row);
    } catch (error) {
      throw new RunOutputError(`line ${i + 1} is not JSON: ${String(error)}`);
    }
  });
  if (rows.length === 0) throw new RunOutputError("the table has no rows");
  return { header: Object.keys(rows[0] as Row), rows };
}

/** RFC 4180 CSV (quoted fields may hold commas, quotes and newlines). */
function readCsv(text: string): { header: string[]; rows: Row[] } {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else {
      field += c;
    }
  }
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const [header, ...body] = records.filter((r) => r.length > 1 || r[0] !== "");
  if (header === undefined || body.length === 0) throw new RunOutputError("the table has no rows");
  const rows = body.map((values, i) => {
    if (values.length !== header.length) {
      throw new RunOutputError(
        `CSV row ${i + 2} has ${values.length} fields, the header ${header.length}`,
      );
    }
    return Object.fromEntries(header.map((name, j) => [name, values[j]]));
  });
  return { header, rows };
}
