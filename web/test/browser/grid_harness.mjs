// Page-side helpers for tests/test_web_grid.py (loaded through the driver's /__file__/ route):
// they make LandmarkGrid views of the built bundle (dist/vitruvian-3d.mjs) in the page, and
// report what the WebGL canvas shows as pixel counts per colour, so that the Python side can
// check the drawing without comparing images.
import * as grid3d from "/vitruvian-3d.mjs";
import { POSE_CONNECTIONS, POSE_LANDMARKS_LEFT, POSE_LANDMARKS_RIGHT } from "/vitruvian.mjs";

// Every requestAnimationFrame call the page makes is counted (the harness's own waits use the
// browser's function directly), so a test can tell whether a grid still asks for frames.
const browserFrame = window.requestAnimationFrame.bind(window);
let frameRequests = 0;
window.requestAnimationFrame = (callback) => {
  frameRequests++;
  return browserFrame(callback);
};

/** Resolves after `count` animation frames. */
async function frames(count) {
  for (let i = 0; i < count; i++) await new Promise((resolve) => browserFrame(resolve));
}

const grids = new Map();
let nextId = 1;

/** MediaPipe's landmark lists, for `colorLandmarks` in tests. */
export function poseLists() {
  return {
    connections: POSE_CONNECTIONS,
    left: Object.values(POSE_LANDMARKS_LEFT),
    right: Object.values(POSE_LANDMARKS_RIGHT),
  };
}

/** `[[x, y, z, visibility, presence], ...]` rows as landmark objects. */
function toLandmarks(rows) {
  return rows.map(([x, y, z, visibility]) => ({ x, y, z, visibility }));
}

/** `updateLandmarks` with rows; `connections: "pose"` means POSE_CONNECTIONS. */
function show(grid, rows, connections = [], colorLandmarks = undefined) {
  const lines = connections === "pose" ? POSE_CONNECTIONS : connections;
  grid.updateLandmarks(toLandmarks(rows), lines, colorLandmarks ?? undefined);
}

/**
 * A grid in a new `<div>` of `width` x `height` CSS pixels (`height: null` leaves the height
 * unset), made with `config` and shown `landmarks` (rows) if given. Returns its id and what it
 * shows (see `inspect`).
 */
export async function create(options) {
  const { width, height, config, landmarks, connections, colorLandmarks, colors } = options;
  const parent = document.createElement("div");
  parent.style.width = `${width}px`;
  if (height !== null) parent.style.height = `${height}px`;
  parent.style.background = "#202124";
  parent.style.color = "#e8eaed";
  document.body.append(parent);
  const grid = new grid3d.LandmarkGrid(parent, config ?? {});
  const id = nextId++;
  grids.set(id, { grid, parent });
  if (landmarks) show(grid, landmarks, connections, colorLandmarks);
  await frames(3);
  return { id, ...inspect(id, colors) };
}

/** `updateLandmarks` on grid `id`, then what it shows. */
export async function update({ id, landmarks, connections, colorLandmarks, colors }) {
  show(grids.get(id).grid, landmarks, connections, colorLandmarks);
  await frames(3);
  return inspect(id, colors);
}

/** Set grid `id`'s parent to `width` x `height` CSS pixels; what it shows once it follows. */
export async function resize({ id, width, height, colors }) {
  const { parent } = grids.get(id);
  parent.style.width = `${width}px`;
  parent.style.height = `${height}px`;
  const canvas = parent.querySelector("canvas");
  // ResizeObserver answers before the next paint; the drawing follows on a frame after it.
  const done = () => canvas.width === width && canvas.height === height;
  for (let i = 0; i < 30 && !done(); i++) await frames(1);
  await frames(3);
  return inspect(id, colors);
}

/** A mouse drag of `dx` CSS pixels sideways across grid `id`, then what it shows. */
export async function drag({ id, dx, colors }) {
  const canvas = grids.get(id).parent.querySelector("canvas");
  const box = canvas.getBoundingClientRect();
  const y = box.top + box.height / 2;
  const x = box.left + box.width / 2;
  const event = (type, clientX) =>
    new PointerEvent(type, { bubbles: true, cancelable: true, clientX, clientY: y, button: 0 });
  canvas.dispatchEvent(event("pointerdown", x));
  canvas.dispatchEvent(event("pointermove", x + dx / 2));
  canvas.dispatchEvent(event("pointermove", x + dx));
  canvas.dispatchEvent(event("pointerup", x + dx));
  await frames(3);
  return inspect(id, colors);
}

/** How many animation frames the page asked for during the next `count` frames. */
export async function frameRequestsOver({ count }) {
  const before = frameRequests;
  await frames(count);
  return frameRequests - before;
}

/** Two readings of grid `id`'s canvas `count` frames apart: whether they differ. */
export async function changesOver({ id, count }) {
  const canvas = grids.get(id).parent.querySelector("canvas");
  const first = canvas.toDataURL("image/png");
  await frames(count);
  return first !== canvas.toDataURL("image/png");
}

/**
 * `dispose()` on grid `id`; then what is left: the parent's children, whether the WebGL context
 * is lost, and the frames asked for over the next 10 frames (none expected).
 */
export async function dispose({ id }) {
  const { grid, parent } = grids.get(id);
  const canvas = parent.querySelector("canvas");
  const gl = canvas.getContext("webgl2") ?? canvas.getContext("webgl");
  grid.dispose();
  grid.dispose(); // twice is harmless
  grid.updateLandmarks([{ x: 0, y: 0, z: 0 }]); // and later calls do nothing
  const requests = await frameRequestsOver({ count: 10 });
  grids.delete(id);
  const left = parent.children.length;
  parent.remove();
  const contextLost = gl === null || gl.isContextLost();
  return { children: left, contextLost, frameRequests: requests };
}

/**
 * Loads the classic script `/vitruvian-3d.js` with a `<script>` tag, as a page written for
 * MediaPipe's control_utils_3d.js does; which of its names became globals.
 */
export async function classicScript() {
  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/vitruvian-3d.js";
    script.onload = resolve;
    script.onerror = () => reject(new Error("cannot load /vitruvian-3d.js"));
    document.head.append(script);
  });
  return {
    LandmarkGrid: typeof globalThis.LandmarkGrid,
    ViewerWidget: typeof globalThis.ViewerWidget,
    namespace: typeof globalThis.vitruvian3d,
    subclass: globalThis.LandmarkGrid?.prototype instanceof globalThis.ViewerWidget,
  };
}

/** Dispose every grid still open (between tests). */
export async function disposeAll() {
  for (const { grid, parent } of grids.values()) {
    grid.dispose();
    parent.remove();
  }
  grids.clear();
  return null;
}

/** The grid's WebGL canvas as a PNG data URL (for the test's screenshot). */
export function dataUrl({ id }) {
  return grids.get(id).parent.querySelector("canvas").toDataURL("image/png");
}

/**
 * What grid `id` shows: the canvas's size in device pixels and CSS pixels, the parent's size,
 * the axis labels' texts, and per entry of `colors` (`{name: {rgb: [r, g, b], tolerance,
 * alpha: "opaque" | "background"}}`) the number of pixels of that colour and their bounding
 * box `[left, top, right, bottom]` (or null). "opaque" pixels are fully covered by the scene
 * (alpha 255: no antialiasing blend with the half-transparent background); "background" ones
 * are untouched (alpha about 128).
 */
export function inspect(id, colors = {}) {
  const { parent } = grids.get(id);
  const canvas = parent.querySelector("canvas");
  const copy = new OffscreenCanvas(canvas.width, canvas.height);
  const ctx = copy.getContext("2d");
  ctx.drawImage(canvas, 0, 0);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const entries = Object.entries(colors ?? {});
  const counts = Object.fromEntries(entries.map(([name]) => [name, 0]));
  const boxes = Object.fromEntries(entries.map(([name]) => [name, null]));
  for (let i = 0, p = 0; i < data.length; i += 4, p++) {
    const alpha = data[i + 3];
    for (const [name, { rgb, tolerance, alpha: kind }] of entries) {
      const alphaOk = kind === "background" ? Math.abs(alpha - 128) <= 3 : alpha >= 254;
      if (!alphaOk) continue;
      if (
        Math.abs(data[i] - rgb[0]) > tolerance ||
        Math.abs(data[i + 1] - rgb[1]) > tolerance ||
        Math.abs(data[i + 2] - rgb[2]) > tolerance
      ) {
        continue;
      }
      counts[name]++;
      const x = p % canvas.width;
      const y = Math.floor(p / canvas.width);
      const box = boxes[name];
      boxes[name] = box
        ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)]
        : [x, y, x, y];
    }
  }
  return {
    canvas: [canvas.width, canvas.height],
    css: [canvas.clientWidth, canvas.clientHeight],
    parent: [parent.clientWidth, parent.clientHeight],
    labels: [...parent.querySelectorAll(".landmark-label-js")].map((label) => label.textContent),
    counts,
    boxes,
    pixels: canvas.width * canvas.height,
  };
}
