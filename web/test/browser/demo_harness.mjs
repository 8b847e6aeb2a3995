// Page-side checks for tests/test_web_demo.py: the package's drawing_utils against MediaPipe's
// own (`@mediapipe/drawing_utils`, loaded from web/node_modules), and `vitruvian run` tables.
import * as vitruvian from "/vitruvian.mjs";

/** MediaPipe's drawing_utils.js (a classic script that defines globals), loaded once. */
async function legacyUtils(path) {
  if (!globalThis.__legacyDrawing) {
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = `/__file__${path}`;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`cannot load ${path}`));
      document.head.append(script);
    });
    const { drawLandmarks, drawConnectors, drawRectangle, lerp, clamp } = globalThis;
    globalThis.__legacyDrawing = { drawLandmarks, drawConnectors, drawRectangle, lerp, clamp };
  }
  return globalThis.__legacyDrawing;
}

/** A fresh canvas, filled with a grey (so that black and white strokes both show). */
function canvas(width, height) {
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  const ctx = c.getContext("2d");
  ctx.fillStyle = "rgb(90, 90, 90)";
  ctx.fillRect(0, 0, width, height);
  return ctx;
}

/** Each case draws with `utils` (ours or MediaPipe's) on `ctx`; `log` records style calls. */
const CASES = {
  defaults: (u, ctx, lm, conn) => {
    u.drawConnectors(ctx, lm, conn);
    u.drawLandmarks(ctx, lm);
  },
  tutorial: (u, ctx, lm, conn) => {
    u.drawConnectors(ctx, lm, conn, { color: "#00FF00", lineWidth: 4 });
    u.drawLandmarks(ctx, lm, { color: "#FF0000", lineWidth: 2 });
  },
  functions: (u, ctx, lm, conn, log) => {
    const record = (what) => (data) => {
      log.push([what, data.index ?? null, data.from?.x ?? null, data.to?.x ?? null]);
      return what === "width" ? 1 + 5 * (data.from?.visibility ?? 0) : what === "radius" ? 2 + (data.index % 5) : data.index % 2 ? "red" : "blue";
    };
    u.drawConnectors(ctx, lm, conn, { color: record("color"), lineWidth: record("width") });
    u.drawLandmarks(ctx, lm, { color: record("color"), fillColor: record("fill"), lineWidth: record("width"), radius: record("radius") });
  },
  visibility: (u, ctx, lm, conn) => {
    u.drawConnectors(ctx, lm, conn, { visibilityMin: 0.95, color: "yellow" });
    u.drawLandmarks(ctx, lm, { visibilityMin: 0.99, color: "cyan", fillColor: "magenta" });
    u.drawLandmarks(ctx, lm, { visibilityMin: -1, radius: 2, color: "black" });
  },
  rectangle: (u, ctx) => {
    u.drawRectangle(ctx, { xCenter: 0.4, yCenter: 0.6, width: 0.3, height: 0.2, rotation: 30 }, { color: "orange", fillColor: "rgba(0, 0, 255, 0.5)", lineWidth: 3 });
    u.drawRectangle(ctx, { xCenter: 0.7, yCenter: 0.3, width: 0.1, height: 0.4, rotation: 0 });
  },
  missing: (u, ctx, lm, conn) => {
    const holes = lm.map((l, i) => (i % 3 === 0 ? undefined : l));
    u.drawConnectors(ctx, holes, conn, { color: "lime" });
    u.drawLandmarks(ctx, holes, { color: "white", fillColor: "black" });
    u.drawLandmarks(ctx, undefined);
    u.drawConnectors(ctx, lm, undefined);
  },
};

/**
 * Each case drawn by both implementations on identical canvases: the largest channel difference,
 * the number of pixels that differ, and the style functions' calls (ours, MediaPipe's).
 * `landmarks`: [{x, y, z, visibility}], `connections`: [[a, b]].
 */
export async function compareWithMediaPipe({ legacyPath, landmarks, connections, width, height }) {
  const legacy = await legacyUtils(legacyPath);
  const out = {};
  for (const [name, draw] of Object.entries(CASES)) {
    const ours = canvas(width, height);
    const theirs = canvas(width, height);
    const oursLog = [];
    const theirsLog = [];
    draw(vitruvian, ours, landmarks, connections, oursLog);
    draw(legacy, theirs, landmarks, connections, theirsLog);
    const a = ours.getImageData(0, 0, width, height).data;
    const b = theirs.getImageData(0, 0, width, height).data;
    let maxDiff = 0;
    let differing = 0;
    let changed = 0;
    for (let i = 0; i < a.length; i += 4) {
      let pixel = 0;
      for (let c = 0; c < 4; c++) pixel = Math.max(pixel, Math.abs(a[i + c] - b[i + c]));
      maxDiff = Math.max(maxDiff, pixel);
      if (pixel > 0) differing++;
      if (a[i] !== 90 || a[i + 1] !== 90 || a[i + 2] !== 90) changed++;
    }
    out[name] = { maxDiff, differing, changed, calls: oursLog, legacyCalls: theirsLog };
  }
  const xs = [-1, 0, 0.25, 0.5, 1, 2];
  out.lerp = {
    ours: xs.map((x) => [vitruvian.lerp(x, 0, 1, 10, 20), vitruvian.lerp(x, -0.15, 0.1, 10, 1), vitruvian.clamp(x, 1, 0)]),
    legacy: xs.map((x) => [legacy.lerp(x, 0, 1, 10, 20), legacy.lerp(x, -0.15, 0.1, 10, 1), legacy.clamp(x, 1, 0)]),
  };
  return out;
}

/**
 * One landmark at the centre of a transparent 101x101 canvas drawn with the defaults, and the
 * same with visibility exactly at `visibilityMin` (not drawn): the alpha and colour along the
 * row through the centre.
 */
export async function defaultLandmark() {
  const row = (visibility) => {
    const c = document.createElement("canvas");
    c.width = 101;
    c.height = 101;
    const ctx = c.getContext("2d");
    vitruvian.drawLandmarks(ctx, [{ x: 50.5 / 101, y: 50.5 / 101, visibility }]);
    return Array.from(ctx.getImageData(0, 50, 101, 1).data);
  };
  return { shown: row(undefined), atThreshold: row(0.5), above: row(0.51) };
}

/**
 * `vitruvian run` tables read by `parseRunOutput`: for each file, the rows as plain arrays
 * (frame, timestamp, then x, y, z, visibility of each landmark, or null without a pose), and the
 * error message for each broken table text.
 */
export async function readTables({ paths, broken }) {
  const out = { tables: {}, errors: [] };
  for (const path of paths) {
    const text = await (await fetch(`/__file__${path}`)).text();
    out.tables[path] = vitruvian.parseRunOutput(text).map((row) => [
      row.frame,
      row.timestampS,
      row.imageWidth,
      row.landmarks === null ? null : row.landmarks.flatMap((l) => [l.x, l.y, l.z, l.visibility]),
      row.worldLandmarks === null ? null : row.worldLandmarks.flatMap((l) => [l.x, l.y, l.z]),
    ]);
  }
  for (const text of broken) {
    try {
      vitruvian.parseRunOutput(text);
      out.errors.push("parsed");
    } catch (error) {
      out.errors.push(`${error.name}: ${error.message}`);
    }
  }
  return out;
}
