// Page-side benchmark of the browser package against the real @mediapipe/pose, run by
// scripts/bench_web.py through web/test/browser/driver.mjs (files come through /__file__/).
//
// Each function times `send()` on the same frames: video mode (timestamps every 33.333 ms,
// tracking on) and static mode (`reset()` before every frame, so the detector runs each time,
// the same for both libraries). Frames are canvases holding raw RGBA files the script wrote.
import * as vitruvian from "/vitruvian.mjs";

async function canvases(frames) {
  const out = [];
  for (const { path, width, height } of frames) {
    const response = await fetch(`/__file__${path}`);
    if (!response.ok) throw new Error(`cannot fetch ${path}: HTTP ${response.status}`);
    const pixels = new ImageData(new Uint8ClampedArray(await response.arrayBuffer()), width, height);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").putImageData(pixels, 0, 0);
    out.push(canvas);
  }
  return out;
}

function summary(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** ms per send() for a Pose-like object (`vitruvian.Pose` or MediaPipe's `Pose`). */
async function timeSends(pose, images, mode, warmup) {
  let found = 0;
  pose.onResults((results) => {
    if (results.poseLandmarks) found++;
  });
  const times = [];
  for (let i = 0; i < images.length + warmup; i++) {
    const image = images[i % images.length];
    if (mode === "static") pose.reset();
    const start = performance.now();
    await pose.send({ image }, (i + 1) * 33.333);
    if (i >= warmup) times.push(performance.now() - start);
  }
  return { ...summary(times), found: found - warmup };
}

/** vitruvian's Pose: `{complexity, mode, frames, warmup}`. */
export async function benchVitruvian({ complexity, mode, frames, warmup = 2 }) {
  const pose = new vitruvian.Pose({ locateFile: (file) => `/models/${file}` });
  pose.setOptions({ modelComplexity: complexity });
  await pose.initialize();
  try {
    return await timeSends(pose, await canvases(frames), mode, warmup);
  } finally {
    await pose.close();
  }
}

/** LiteRT.js alone: ms per model call on a constant input. */
export async function benchModels({ names, runs = 20 }) {
  await vitruvian.loadRuntime("/wasm/");
  const out = {};
  for (const name of names) {
    const bytes = await vitruvian.fetchModel(name, (file) => `/models/${file}`);
    const model = await vitruvian.LiteRtModel.create(bytes);
    const input = new Float32Array(model.inputShape.reduce((a, b) => a * b, 1)).fill(0.5);
    const times = [];
    for (let i = 0; i < runs + 2; i++) {
      const start = performance.now();
      await model.run(input, [0]);
      if (i >= 2) times.push(performance.now() - start);
    }
    model.close();
    out[name] = { ...summary(times), threads: model.numThreads };
  }
  return out;
}

let mediapipeLoaded = null;

function loadMediaPipe(folder) {
  if (mediapipeLoaded === null) {
    mediapipeLoaded = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = `/__file__${folder}/pose.js`;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`cannot load ${folder}/pose.js`));
      document.head.append(script);
    });
  }
  return mediapipeLoaded;
}

/** The real @mediapipe/pose from `folder`: `{folder, complexity, mode, frames, useCpuInference}`. */
export async function benchMediaPipe({ folder, complexity, mode, frames, useCpuInference, warmup = 1 }) {
  await loadMediaPipe(folder);
  const pose = new window.Pose({ locateFile: (file) => `/__file__${folder}/${file}` });
  pose.setOptions({ modelComplexity: complexity, useCpuInference });
  await pose.initialize();
  try {
    return await timeSends(pose, await canvases(frames), mode, warmup);
  } finally {
    await pose.close();
  }
}
