// Page-side helpers for tests/test_web_browser.py (loaded through the driver's /__file__/ route).
// They run the browser package on raw RGBA files the Python test wrote, and return plain arrays
// for the Python side to compare with its own results.
import * as vitruvian from "/vitruvian.mjs";

export { vitruvian };

/** A raw RGBA file (`width * height * 4` bytes) as an ImageData-like image. */
export async function loadRgba(path, width, height) {
  const response = await fetch(`/__file__${path}`);
  if (!response.ok) throw new Error(`cannot fetch ${path}: HTTP ${response.status}`);
  const data = new Uint8ClampedArray(await response.arrayBuffer());
  return new ImageData(data, width, height);
}

async function loadFloat32(path) {
  const response = await fetch(`/__file__${path}`);
  if (!response.ok) throw new Error(`cannot fetch ${path}: HTTP ${response.status}`);
  return new Float32Array(await response.arrayBuffer());
}

const locate = (file) => `/models/${file}`;
const models = new Map();

/** A loaded model by name (loaded once per page). */
export async function model(name) {
  if (!models.has(name)) {
    models.set(
      name,
      vitruvian
        .loadRuntime("/wasm/")
        .then(() => vitruvian.fetchModel(name, locate))
        .then((bytes) => vitruvian.LiteRtModel.create(bytes)),
    );
  }
  return models.get(name);
}

/** A PosePipeline for a complexity and options. */
export async function pipeline(complexity, options = {}) {
  const detector = await model("pose_detection");
  const landmarker = await model(vitruvian.landmarkModelName(complexity));
  return new vitruvian.PosePipeline(detector, landmarker, {
    enableSegmentation: options.enableSegmentation ?? false,
    minDetectionConfidence: options.minDetectionConfidence ?? 0.5,
    minTrackingConfidence: options.minTrackingConfidence ?? 0.5,
  });
}

/** A pose as plain arrays, and the mask compared with a reference mask file (if given). */
export async function plain(result, maskPath) {
  if (result === null) return null;
  const out = {
    landmarks: Array.from(result.landmarks.data),
    world: Array.from(result.worldLandmarks.data),
    auxiliary: Array.from(result.auxiliaryLandmarks.data),
    presence: result.presenceScore,
    roi: result.roi,
  };
  if (result.segmentationMask !== null) {
    const mask = result.segmentationMask.data;
    out.maskShape = [result.segmentationMask.rows, result.segmentationMask.cols];
    if (maskPath) {
      const reference = await loadFloat32(maskPath);
      let maxDiff = 0;
      let sumDiff = 0;
      let both = 0;
      let either = 0;
      for (let i = 0; i < mask.length; i++) {
        const diff = Math.abs(mask[i] - reference[i]);
        maxDiff = Math.max(maxDiff, diff);
        sumDiff += diff;
        const a = mask[i] > 0.5;
        const b = reference[i] > 0.5;
        if (a && b) both++;
        if (a || b) either++;
      }
      out.maskMaxDiff = maxDiff;
      out.maskMeanDiff = sumDiff / mask.length;
      out.maskIou = either === 0 ? 1 : both / either;
      out.maskLength = mask.length;
      out.referenceLength = reference.length;
    }
  }
  return out;
}

/** Static mode on each image: `[{path, width, height, maskPath?}]`. */
export async function runStatic({ complexity, enableSegmentation, images }) {
  const graph = await pipeline(complexity, { enableSegmentation });
  const results = [];
  for (const { path, width, height, maskPath } of images) {
    const image = await loadRgba(path, width, height);
    results.push(await plain(await graph.process(image), maskPath));
  }
  return results;
}

/** An `<img>` element showing the image file at `path` (decoded by the browser). */
async function imageElement(path) {
  const response = await fetch(`/__file__${path}`);
  if (!response.ok) throw new Error(`cannot fetch ${path}: HTTP ${response.status}`);
  const image = new Image();
  image.src = URL.createObjectURL(await response.blob());
  await image.decode();
  return image;
}

function landmarkArray(list) {
  return list.flatMap((l) => [l.x, l.y, l.z, l.visibility]);
}

/** RGBA bytes of a canvas or an ImageBitmap. */
function pixelsOf(drawable) {
  const canvas = new OffscreenCanvas(drawable.width, drawable.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(drawable, 0, 0);
  return ctx.getImageData(0, 0, drawable.width, drawable.height).data;
}

/**
 * The `Pose` Solution API on frames (`[{path, width, height}]` raw RGBA, or `[{png}]` image
 * files shown in an `<img>`), with `options` for `setOptions`; each frame is sent with the
 * timestamp `i * stepMs` (or none when `stepMs` is null). Returns one entry per frame:
 * `null` without a pose, else `{landmarks, world}` (x, y, z, visibility per landmark) and, with
 * a mask, `maskIou` against the reference file `maskReference` (float32, > 0.5 is the person)
 * computed on the mask's alpha. With `useWorker` the graph runs in the package's Web Worker.
 */
export async function runPose({ options, frames, stepMs, maskReference, useWorker = false }) {
  const pose = new vitruvian.Pose({ locateFile: (file) => `/models/${file}`, useWorker });
  pose.setOptions(options);
  const reference = maskReference ? await loadFloat32(maskReference) : null;
  const out = [];
  pose.onResults((results) => {
    if (!results.poseLandmarks) {
      out.push(null);
      return;
    }
    const entry = {
      landmarks: landmarkArray(results.poseLandmarks),
      world: landmarkArray(results.poseWorldLandmarks),
      imageSize: [results.image.width, results.image.height],
      imageType: results.image.constructor.name,
    };
    const mask = results.segmentationMask;
    if (mask) {
      entry.maskSize = [mask.width, mask.height];
      if (reference) {
        const alpha = pixelsOf(mask);
        let both = 0;
        let either = 0;
        for (let i = 0; i < reference.length; i++) {
          const a = alpha[i * 4 + 3] > 127;
          const b = reference[i] > 0.5;
          if (a && b) both++;
          if (a || b) either++;
        }
        entry.maskIou = both / either;
      }
    }
    out.push(entry);
  });
  try {
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i];
      const image = frame.png
        ? await imageElement(frame.png)
        : await loadRgba(frame.path, frame.width, frame.height);
      await pose.send({ image }, stepMs === null ? undefined : i * stepMs);
    }
  } finally {
    await pose.close();
  }
  return out;
}

/**
 * What each misuse gives: the error message of the rejected promise (or "resolved").
 * `fakeModel` is a file that is not a model (for the checksum case).
 */
export async function misuse({ frame, fakeModel }) {
  const image = await loadRgba(frame.path, frame.width, frame.height);
  const outcome = async (promise) => {
    try {
      await promise;
      return "resolved";
    } catch (error) {
      return `${error.name}: ${error.message}`;
    }
  };
  const report = {};
  const missing = new vitruvian.Pose({ locateFile: (file) => `/no-such-folder/${file}` });
  report.missingInitialize = await outcome(missing.initialize());
  report.missingSend = await outcome(missing.send({ image }));
  const fake = new vitruvian.Pose({
    locateFile: (file) => (file.endsWith(".data") ? `/__file__${fakeModel}` : `/models/${file}`),
  });
  report.checksum = await outcome(fake.send({ image }));
  const pose = new vitruvian.Pose({ locateFile: (file) => `/models/${file}` });
  report.badInput = await outcome(pose.send({ image: "not an image" }));
  report.noImage = await outcome(pose.send({}));
  report.badOption = await outcome((async () => pose.setOptions({ modelComplexity: 3 }))());
  let calls = 0;
  pose.onResults(() => calls++);
  report.goodSend = await outcome(pose.send({ image }, 0));
  report.backwards = await outcome(pose.send({ image }, 0));
  report.callsBeforeClose = calls;
  await pose.close();
  report.afterClose = await outcome(pose.send({ image }));
  return report;
}

/**
 * Several `Pose` objects alive at once on one page, complexities switched back and forth, then
 * closed: more models than the wasm runtime has pthread workers (a model given threads beyond
 * them could hang the page when it runs or is closed). Returns, per step, whether a pose was
 * found.
 */
export async function manyPoses({ frame }) {
  const image = await loadRgba(frame.path, frame.width, frame.height);
  const found = [];
  const poses = [0, 1, 2].map((complexity) => {
    const pose = new vitruvian.Pose({ locateFile: (file) => `/models/${file}` });
    pose.setOptions({ modelComplexity: complexity, staticImageMode: true });
    pose.onResults((results) => found.push(results.poseLandmarks !== undefined));
    return pose;
  });
  for (const pose of poses) await pose.send({ image });
  for (const complexity of [2, 0, 1]) {
    poses[0].setOptions({ modelComplexity: complexity });
    await poses[0].send({ image });
  }
  await poses[1].close();
  await poses[2].send({ image });
  for (const pose of poses) await pose.close();
  return found;
}
