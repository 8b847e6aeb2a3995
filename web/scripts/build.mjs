// Build the browser package into dist/: the ES module (dist/vitruvian.mjs), a classic script
// that defines the same names as globals (dist/vitruvian.js, for `<script src>` pages written
// for @mediapipe/pose), LiteRT.js's wasm runtime (dist/wasm/) and the pages (dist/*.html).
// dist/vitruvian-worker.js is the Web Worker behind `new Pose({useWorker: true})`.
// dist/vitruvian-3d.mjs and dist/vitruvian-3d.js (globals, like control_utils_3d.js) hold
// LandmarkGrid and the three.js it draws with, which the pose bundles above do not carry.
// The model files are not part of the build: `vitruvian web` adds them (see README).
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(web, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = {
  entryPoints: [join(web, "src", "index.ts")],
  bundle: true,
  target: "es2022",
  sourcemap: true,
  logLevel: "warning",
  legalComments: "linked",
};
await build({ ...common, format: "esm", outfile: join(dist, "vitruvian.mjs") });
await build({
  ...common,
  format: "iife",
  globalName: "vitruvian",
  outfile: join(dist, "vitruvian.js"),
  // The classic script also defines each export as a global, as @mediapipe/pose's script does.
  footer: { js: "Object.assign(globalThis, vitruvian);" },
  // import.meta is empty in a classic script; the code falls back to document.currentScript.
  logOverride: { "empty-import-meta": "silent" },
});

// The 3-D landmark grid (three.js) apart, as MediaPipe ships control_utils_3d apart.
const grid = { ...common, entryPoints: [join(web, "src", "index_3d.ts")], minify: true };
await build({ ...grid, format: "esm", outfile: join(dist, "vitruvian-3d.mjs") });
await build({
  ...grid,
  format: "iife",
  globalName: "vitruvian3d",
  outfile: join(dist, "vitruvian-3d.js"),
  footer: { js: "Object.assign(globalThis, vitruvian3d);" },
  logOverride: { "empty-import-meta": "silent" },
});

// A classic worker: LiteRT.js loads its wasm glue with importScripts, which module workers lack.
await build({
  ...common,
  entryPoints: [join(web, "src", "worker.ts")],
  format: "iife",
  outfile: join(dist, "vitruvian-worker.js"),
  logOverride: { "empty-import-meta": "silent" },
});

cpSync(join(web, "node_modules", "@litertjs", "core", "wasm"), join(dist, "wasm"), {
  recursive: true,
});
for (const page of readdirSync(join(web, "pages"))) {
  cpSync(join(web, "pages", page), join(dist, page), { recursive: true });
}
// The demo page's sample photo: MediaPipe's pose.jpg, as the Python package ships it for
// `vitruvian demo` (source and licence in src/vitruvian/data/SOURCES.md).
mkdirSync(join(dist, "sample"), { recursive: true });
cpSync(join(web, "..", "src", "vitruvian", "data", "pose.jpg"), join(dist, "sample", "pose.jpg"));
