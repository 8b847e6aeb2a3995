/**
 * `LandmarkGrid` and its base `ViewerWidget`: the 3-D landmark viewer of MediaPipe's
 * `@mediapipe/control_utils_3d` (0.3.1675466062), written anew on three.js with the same names,
 * constructor, `updateLandmarks`, `setDistance`, configuration keys and default values.
 *
 * ```js
 * const grid = new LandmarkGrid(document.querySelector(".landmark-grid-container"));
 * pose.onResults((results) => grid.updateLandmarks(results.poseWorldLandmarks ?? []));
 * // or coloured:
 * grid.updateLandmarks(results.poseWorldLandmarks, POSE_CONNECTIONS,
 *                      [{ list: Object.values(POSE_LANDMARKS_LEFT), color: "LEFT" }]);
 * ```
 *
 * Frames and units:
 * - Landmarks are MediaPipe world landmarks: metres, origin at the midpoint of the hips, x to
 *   the image's right, y down, z away from the camera. (Any unit works: `range` is in the same
 *   unit.)
 * - The grid is a cube of side `range` (so it spans [-range/2, range/2] on each axis, as the
 *   original draws it; its type comment says [-range, range], its code does not) centred on the
 *   origin, or on the visible landmarks' bounding-box centre with `centered`.
 * - The scene (three.js) is y up and z towards the viewer, so a landmark (x, y, z) is drawn at
 *   (x, -y, -z): the person stands upright, and the first view looks from the camera's side.
 *   The cube is `GRID_SIZE` (100) scene units across whatever `range` is; `landmarkSize` and
 *   `setDistance` are in those units.
 *
 * Differences from the original, on purpose: the view turns continuously while `isRotating`
 * (the original turned only when a frame was drawn, i.e. once per `updateLandmarks`), at
 * `rotationSpeed` radians per 1/30 s, the speed the original had with a 30 fps camera; line
 * widths are honoured (three.js's fat lines; plain WebGL lines are 1 pixel whatever the width);
 * the axis labels give the world coordinate of their grid line (the original's were off when
 * `centered` moved the origin, and did not flip y and z); the canvas follows the parent's size
 * (a parent with no height gets a square view, at most 480 pixels tall); the play/pause button
 * is drawn locally instead of loaded from fonts.gstatic.com; and `dispose()` is added.
 */

import * as THREE from "three";
import { LineMaterial } from "three/examples/jsm/lines/LineMaterial.js";
import { LineSegments2 } from "three/examples/jsm/lines/LineSegments2.js";
import { LineSegmentsGeometry } from "three/examples/jsm/lines/LineSegmentsGeometry.js";

/**
 * A landmark as `updateLandmarks` takes it (MediaPipe's `NormalizedLandmark` type, which the
 * original uses for world landmarks too). `z` defaults to 0; a missing `visibility` counts as
 * visible.
 */
export interface NormalizedLandmark {
  x: number;
  y: number;
  z?: number;
  visibility?: number;
}

/** Settings of any viewer (`ViewerWidgetConfig`). */
export interface ViewerWidgetConfig {
  /** Colour behind the scene, 0xRRGGBB, drawn at half opacity over the page (default 0). */
  backgroundColor?: number;
  /** The camera's vertical field of view, degrees (default 75). */
  fovInDegrees?: number;
  /** Whether the view turns about the vertical axis by itself (default true). */
  isRotating?: boolean;
  /** Radians per 1/30 s while turning (default 0.1; `LandmarkGrid`'s default is 0.05). */
  rotationSpeed?: number;
}

/** Settings of `LandmarkGrid` (`LandmarkGridConfig`); colours are 0xRRGGBB numbers. */
export interface LandmarkGridConfig extends ViewerWidgetConfig {
  /** Colour of the cube's outline (default 0xffffff). */
  axesColor?: number;
  /** Width of the cube's outline, CSS pixels (default 2). */
  axesWidth?: number;
  /** Centre the grid on the bounding box of the visible landmarks (default false). */
  centered?: boolean;
  /** Colour of connections and of `colorLandmarks` lists without a colour (default 0x00ffff). */
  connectionColor?: number;
  /** Width of the connections, CSS pixels (default 3). */
  connectionWidth?: number;
  /** Colours that `updateLandmarks`'s lists name, e.g. `[{name: "LEFT", value: 0xffa500}]`. */
  definedColors?: Array<{ name: string; value: number }>;
  /**
   * Grow or shrink the grid, in steps of 0.5 (landmark units) on its half side, to the smallest
   * size that holds every visible landmark (default false). The labels follow.
   */
  fitToGrid?: boolean;
  /** Text before each axis label's number (default ""). */
  labelPrefix?: string;
  /** Text after each axis label's number, e.g. "m" (default ""). */
  labelSuffix?: string;
  /** Colour of visible landmarks (default 0xaaaaaa). */
  landmarkColor?: number;
  /** Radius of a landmark's sphere, scene units (the cube is 100 across; default 3). */
  landmarkSize?: number;
  /** With `fitToGrid`, the space kept free on each side, as a fraction of the side (default 0). */
  margin?: number;
  /** A landmark is visible when its visibility is above this (default 0.65). */
  minVisibility?: number;
  /** Colour of landmarks that are not visible, when `showHidden` (default 0xff7777). */
  nonvisibleLandmarkColor?: number;
  /** Grid cells along each side of the cube (default 3). */
  numCellsPerAxis?: number;
  /** Side of the cube in the landmarks' unit, metres for world landmarks (default 1). */
  range?: number;
  /** Draw landmarks that are not visible, and the connections to them (default true). */
  showHidden?: boolean;
}

/** A connection: the indices of the two landmarks it joins. */
export type Connection = number[];
/** A list of connections. */
export type ConnectionList = Connection[];
/** A colour name from `definedColors`. */
export type ColorName = string;
/**
 * Lists drawn in a named colour. `color: undefined` (or a name not in `definedColors`) is the
 * connection colour; a missing `list` in a landmark colour map means every landmark.
 */
export type ColorMap<T> = Array<{ color: ColorName | undefined; list: T[] }>;

/** `ViewerWidget`'s defaults, as the original's. */
export const VIEWER_WIDGET_DEFAULTS: Readonly<Required<ViewerWidgetConfig>> = Object.freeze({
  backgroundColor: 0x000000,
  fovInDegrees: 75,
  isRotating: true,
  rotationSpeed: 0.1,
});

/** `LandmarkGrid`'s defaults, as the original's (they override `rotationSpeed` too). */
export const LANDMARK_GRID_DEFAULTS: Readonly<
  Required<Omit<LandmarkGridConfig, keyof ViewerWidgetConfig>> & { rotationSpeed: number }
> = Object.freeze({
  axesColor: 0xffffff,
  axesWidth: 2,
  centered: false,
  connectionColor: 0x00ffff,
  connectionWidth: 3,
  definedColors: [],
  fitToGrid: false,
  labelPrefix: "",
  labelSuffix: "",
  landmarkColor: 0xaaaaaa,
  landmarkSize: 3,
  margin: 0,
  minVisibility: 0.65,
  nonvisibleLandmarkColor: 0xff7777,
  numCellsPerAxis: 3,
  range: 1,
  rotationSpeed: 0.05,
  showHidden: true,
});

/** Side of the cube in scene units, whatever `range` is. */
export const GRID_SIZE = 100;
/** The camera's starting distance from the origin, scene units. */
const DEFAULT_DISTANCE = 150;
/** The time `rotationSpeed` is per: one frame of a 30 fps camera, milliseconds. */
const ROTATION_PERIOD_MS = 1000 / 30;
/** Longest time one animation frame may turn the view for (after a hidden tab, say), ms. */
const LONGEST_STEP_MS = 100;
/** Colour of the grid's cell lines (fixed in the original too). */
const CELL_LINE_COLOR = 0x999999;
/** `fitToGrid` changes the grid's half side in steps of this, in landmark units. */
const FIT_STEP = 0.5;
/** A view whose parent has no height is as tall as wide, up to this many CSS pixels. */
const FALLBACK_MAX_HEIGHT = 480;

const STYLE_ID = "vitruvian-control-utils-3d-style";
/**
 * The widget's look, under the class names of the original's control_utils_3d.css so that a
 * page's own rules for them apply (they are inserted first in `<head>`, so page rules win).
 */
const STYLE = `
.viewer-widget-js { position: relative; width: 100%; height: 100%; overflow: hidden;
  cursor: grab; touch-action: none; }
.viewer-widget-js:active { cursor: grabbing; }
.viewer-widget-js * { user-select: none; }
.viewer-widget-js > canvas { display: block; }
.viewer-widget-js .landmark-label-js { position: absolute; left: 0; top: 0;
  font: 10px/1 sans-serif; white-space: nowrap; pointer-events: none; }
.viewer-widget-js .controls { position: absolute; left: 4px; bottom: 4px; width: 24px;
  height: 24px; padding: 0; border: 0; border-radius: 4px; cursor: pointer; color: #fff;
  background: rgba(0, 0, 0, 0.35); font: 12px/24px sans-serif; text-align: center; }
`;

function installStyle(): void {
  if (document.getElementById(STYLE_ID) !== null) return;
  const style = document.createElement("style");
  style.id = STYLE_ID;
  style.textContent = STYLE;
  document.head.prepend(style);
}

/** Frees what a scene object holds on the GPU (geometry and materials). */
function disposeObject(object: THREE.Object3D): void {
  const owner = object as THREE.Object3D & {
    geometry?: THREE.BufferGeometry;
    material?: THREE.Material | THREE.Material[];
  };
  owner.geometry?.dispose();
  const materials = owner.material === undefined ? [] : [owner.material].flat();
  for (const material of materials) material.dispose();
}

/**
 * The base of the 3-D viewers: a WebGL canvas filling `parent`, a perspective camera on a
 * circle of radius `distance` about the vertical axis through the origin, looking at the
 * origin, turning by itself while `isRotating` and by hand when dragged sideways. The scene is
 * drawn on demand (`requestFrame`) and on every animation frame while turning.
 */
export class ViewerWidget {
  /** The settings, defaults filled in. `isRotating` changes with the play/pause button. */
  protected readonly config: Required<ViewerWidgetConfig>;
  /** The `<div class="viewer-widget-js">` added to the parent: canvas, labels, button. */
  protected readonly container: HTMLDivElement;
  protected readonly renderer: THREE.WebGLRenderer;
  protected readonly camera: THREE.PerspectiveCamera;
  protected readonly scene = new THREE.Scene();
  /** The camera's angle about the vertical axis, radians; 0 looks down the scene's -z. */
  protected rotation = 0;

  /** The camera's distance from the origin, scene units. */
  private distance = DEFAULT_DISTANCE;
  /** The canvas's size in CSS pixels. */
  private cssWidth = 1;
  private cssHeight = 1;
  private pendingFrame: number | null = null;
  /** Time of the last turning frame (rAF timestamp, ms), or null when not turning. */
  private lastTurnTime: number | null = null;
  private dragging = false;
  private disposed = false;
  private readonly resizeObserver: ResizeObserver | null;
  /** Removes the document listeners of a drag in progress. */
  private endDrag: (() => void) | null = null;

  constructor(parent: HTMLElement, config: ViewerWidgetConfig = {}) {
    installStyle();
    this.config = { ...VIEWER_WIDGET_DEFAULTS, ...withoutUndefined(config) };
    // Measured before anything is added: an empty parent with no set height is 0 tall.
    const parentBox = parent.getBoundingClientRect();

    this.container = document.createElement("div");
    this.container.className = "viewer-widget-js";
    const canvas = document.createElement("canvas");
    this.container.append(canvas);
    parent.append(this.container);

    this.camera = new THREE.PerspectiveCamera(this.config.fovInDegrees, 1, 1, 2000);
    this.renderer = new THREE.WebGLRenderer({
      canvas,
      alpha: true,
      antialias: true,
      // Keeps the last frame readable (toDataURL, drawImage) after it is shown.
      preserveDrawingBuffer: true,
    });
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.renderer.setClearColor(new THREE.Color(this.config.backgroundColor), 0.5);
    this.placeCamera();
    this.setCanvasSize(parentBox.width, parentBox.height);

    this.resizeObserver =
      typeof ResizeObserver === "function"
        ? new ResizeObserver(() => this.followContainer())
        : null;
    this.resizeObserver?.observe(this.container);

    this.addPlayPause();
    canvas.addEventListener("pointerdown", this.onPointerDown);
  }

  /** Put the camera `distance` scene units from the origin (default 150; the cube is 100). */
  setDistance(distance: number): void {
    this.distance = distance;
    this.placeCamera();
    this.requestFrame();
  }

  /**
   * Stop drawing and turning, and free the widget: its GPU resources (geometries, materials,
   * the WebGL context), its observers and listeners, and its elements in the parent. Not in
   * the original. Later calls on the widget do nothing.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.pendingFrame !== null) cancelAnimationFrame(this.pendingFrame);
    this.pendingFrame = null;
    this.resizeObserver?.disconnect();
    this.endDrag?.();
    this.renderer.domElement.removeEventListener("pointerdown", this.onPointerDown);
    this.scene.traverse(disposeObject);
    this.scene.clear();
    this.renderer.dispose();
    this.renderer.forceContextLoss();
    this.container.remove();
  }

  /** Whether `dispose()` was called. */
  protected get isDisposed(): boolean {
    return this.disposed;
  }

  /** Draw the scene now. Subclasses add what follows the camera (labels). */
  protected render(): void {
    this.renderer.render(this.scene, this.camera);
  }

  /**
   * Draw on the next animation frame (once, however often it is asked). While turning, each
   * frame turns the camera and asks for the next.
   */
  protected requestFrame(): void {
    if (this.disposed || this.pendingFrame !== null) return;
    this.pendingFrame = requestAnimationFrame((time) => this.drawFrame(time));
  }

  /** Where `point` (scene units) appears on the canvas, CSS pixels from its top-left corner. */
  protected getCanvasPosition(point: THREE.Vector3): { x: number; y: number } {
    const ndc = point.clone().project(this.camera);
    return {
      x: Math.round(((ndc.x + 1) / 2) * this.cssWidth),
      y: Math.round(((1 - ndc.y) / 2) * this.cssHeight),
    };
  }

  private drawFrame(time: number): void {
    this.pendingFrame = null;
    if (this.disposed) return;
    if (this.config.isRotating && !this.dragging) {
      if (this.lastTurnTime !== null) {
        const elapsed = Math.min(Math.max(time - this.lastTurnTime, 0), LONGEST_STEP_MS);
        this.rotation += (this.config.rotationSpeed * elapsed) / ROTATION_PERIOD_MS;
        this.placeCamera();
      }
      this.lastTurnTime = time;
      this.requestFrame();
    } else {
      this.lastTurnTime = null;
    }
    this.render();
  }

  private placeCamera(): void {
    this.camera.position.set(
      Math.sin(this.rotation) * this.distance,
      0,
      Math.cos(this.rotation) * this.distance,
    );
    this.camera.lookAt(0, 0, 0);
  }

  /**
   * Size the canvas to `width` x `height` CSS pixels; without a height, as tall as wide (at
   * most `FALLBACK_MAX_HEIGHT`).
   */
  private setCanvasSize(width: number, height: number): void {
    const w = Math.max(1, Math.floor(width));
    const h = Math.max(1, Math.floor(height > 0 ? height : Math.min(w, FALLBACK_MAX_HEIGHT)));
    if (w === this.cssWidth && h === this.cssHeight) return;
    this.cssWidth = w;
    this.cssHeight = h;
    this.renderer.setSize(w, h);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.requestFrame();
  }

  /**
   * Follow the container, which is as wide as the parent and as tall as the parent when the
   * parent's height is set (else as tall as the canvas, which then keeps its height).
   */
  private followContainer(): void {
    if (this.disposed) return;
    this.setCanvasSize(this.container.clientWidth, this.container.clientHeight);
  }

  /** The original's play/pause button, bottom left: starts and stops the turning. */
  private addPlayPause(): void {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "controls";
    const show = (): void => {
      button.textContent = this.config.isRotating ? "\u275a\u275a" : "\u25b6";
      button.title = this.config.isRotating ? "Stop turning" : "Turn";
    };
    show();
    button.addEventListener("click", () => {
      this.config.isRotating = !this.config.isRotating;
      show();
      this.requestFrame();
    });
    this.container.append(button);
  }

  /** A drag sideways across the whole canvas turns the view once round. */
  private readonly onPointerDown = (down: PointerEvent): void => {
    if (down.button !== 0 || this.dragging) return;
    down.preventDefault();
    this.dragging = true;
    const startRotation = this.rotation;
    const move = (event: PointerEvent): void => {
      const across = (down.clientX - event.clientX) / this.cssWidth;
      this.rotation = startRotation + 2 * Math.PI * across;
      this.placeCamera();
      this.requestFrame();
    };
    const end = (): void => {
      document.removeEventListener("pointermove", move);
      document.removeEventListener("pointerup", end);
      document.removeEventListener("pointercancel", end);
      this.dragging = false;
      this.endDrag = null;
      this.requestFrame();
    };
    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", end);
    document.addEventListener("pointercancel", end);
    this.endDrag = end;
  };
}

/** `config` without its `undefined` values, so that they take the defaults. */
function withoutUndefined<T extends object>(config: T): Partial<T> {
  const set = Object.entries(config).filter(([, value]) => value !== undefined);
  return Object.fromEntries(set) as Partial<T>;
}

/** One axis label: its element, where it sits (scene units), and which axis it reads. */
interface AxisLabel {
  readonly element: HTMLSpanElement;
  readonly position: THREE.Vector3;
  readonly axis: "x" | "y" | "z";
}

/** One colour's materials: for landmarks (spheres) and for connections (lines). */
interface Paint {
  readonly point: THREE.MeshBasicMaterial;
  readonly line: LineMaterial;
}

/** A colour's materials; `lineWidth` in CSS pixels. */
function makePaint(color: number, lineWidth: number): Paint {
  return {
    point: new THREE.MeshBasicMaterial({ color }),
    line: new LineMaterial({ color, linewidth: lineWidth }),
  };
}

/** A landmark copied for drawing: coordinates in the grid's frame, landmark units. */
interface GridPoint {
  x: number;
  y: number;
  z: number;
  visible: boolean;
}

/**
 * MediaPipe's `LandmarkGrid`: landmarks as spheres joined by lines inside a wire cube whose
 * three far faces (back, left, floor) carry `numCellsPerAxis` x `numCellsPerAxis` cells, with
 * labels on three edges giving the coordinates of the grid lines.
 */
export class LandmarkGrid extends ViewerWidget {
  private readonly settings: Required<Omit<LandmarkGridConfig, keyof ViewerWidgetConfig>>;
  private readonly landmarkGroup = new THREE.Group();
  private readonly connectionGroup = new THREE.Group();
  private readonly labels: AxisLabel[] = [];
  private readonly sphere: THREE.SphereGeometry;
  private readonly landmarkMaterial: THREE.MeshBasicMaterial;
  private readonly nonvisibleMaterial: THREE.MeshBasicMaterial;
  /** Materials of the connection colour. */
  private readonly defaultPaint: Paint;
  /** Materials of each of `definedColors`, by name. */
  private readonly namedPaints = new Map<ColorName, Paint>();
  /** The landmarks shown, in the grid's frame (centred and scaled). */
  private points: GridPoint[] = [];
  /** The world point at the grid's centre (landmark units): the landmarks' centre if centered. */
  private readonly origin = new THREE.Vector3();
  /** Grid units per landmark unit (below 1 when `fitToGrid` grew the grid). */
  private scale = 1;

  constructor(parent: HTMLElement, config: LandmarkGridConfig = {}) {
    const full = { ...LANDMARK_GRID_DEFAULTS, ...withoutUndefined(config) };
    super(parent, full);
    this.settings = full;
    const s = this.settings;
    this.sphere = new THREE.SphereGeometry(s.landmarkSize, 16, 12);
    this.landmarkMaterial = new THREE.MeshBasicMaterial({ color: s.landmarkColor });
    this.nonvisibleMaterial = new THREE.MeshBasicMaterial({ color: s.nonvisibleLandmarkColor });
    this.defaultPaint = makePaint(s.connectionColor, s.connectionWidth);
    for (const { name, value } of s.definedColors) {
      this.namedPaints.set(name, makePaint(value, s.connectionWidth));
    }
    this.scene.add(this.makeCube(), this.landmarkGroup, this.connectionGroup);
    this.makeLabels();
    this.setLabels();
    this.requestFrame();
  }

  /**
   * Show `landmarks` (world landmarks, metres; `[]` clears the view), joined by
   * `colorConnections` (index pairs such as `POSE_CONNECTIONS`, or `{color, list}` groups of
   * them with `color` naming one of `definedColors`), and with the `colorLandmarks` groups of
   * landmark indices drawn in their colour. Landmarks whose visibility is not above
   * `minVisibility` are drawn in `nonvisibleLandmarkColor`, or not at all (nor their
   * connections) without `showHidden`.
   */
  updateLandmarks(
    landmarks: ReadonlyArray<NormalizedLandmark>,
    colorConnections: ConnectionList | ColorMap<Connection> = [],
    colorLandmarks?: ColorMap<number>,
  ): void {
    if (this.isDisposed) return;
    const s = this.settings;
    this.points = (landmarks ?? []).map((l) => ({
      x: l.x,
      y: l.y,
      z: l.z ?? 0,
      visible: this.isVisible(l),
    }));
    // Centring and fitting look at the visible landmarks, or at all if none is visible.
    const visiblePoints = this.points.filter((p) => p.visible);
    const framing = visiblePoints.length > 0 ? visiblePoints : this.points;

    this.origin.set(0, 0, 0);
    if (s.centered && framing.length > 0) {
      const middle = (axis: "x" | "y" | "z"): number => {
        const values = framing.map((p) => p[axis]);
        return (Math.min(...values) + Math.max(...values)) / 2;
      };
      this.origin.set(middle("x"), middle("y"), middle("z"));
      for (const p of this.points) {
        p.x -= this.origin.x;
        p.y -= this.origin.y;
        p.z -= this.origin.z;
      }
    }
    this.scale = s.fitToGrid ? this.fitScale(framing) : 1;
    for (const p of this.points) {
      p.x *= this.scale;
      p.y *= this.scale;
      p.z *= this.scale;
    }
    this.setLabels();

    const positions = this.points.map((p) => this.toScene(p));
    this.drawLandmarks(positions);
    for (const group of colorLandmarks ?? []) this.colorLandmarks(group.list, group.color);
    this.drawConnections(positions, connectionGroups(colorConnections ?? []));
    this.requestFrame();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    for (const label of this.labels) label.element.remove();
    this.clearConnections();
    // Shared by several objects, or not in the scene at all: freed here, once.
    this.sphere.dispose();
    this.landmarkMaterial.dispose();
    this.nonvisibleMaterial.dispose();
    for (const { point, line } of [this.defaultPaint, ...this.namedPaints.values()]) {
      point.dispose();
      line.dispose();
    }
    this.landmarkGroup.clear();
    super.dispose();
  }

  protected override render(): void {
    super.render();
    for (const label of this.labels) {
      const { x, y } = this.getCanvasPosition(label.position);
      label.element.style.transform = `translate(${x}px, ${y}px)`;
    }
  }

  /** The materials of a colour name; the connection colour's without one, or if unknown. */
  private paint(color: ColorName | undefined): Paint {
    return (color !== undefined && this.namedPaints.get(color)) || this.defaultPaint;
  }

  private isVisible(landmark: NormalizedLandmark): boolean {
    const visibility = landmark.visibility;
    if (visibility === undefined) return true;
    return visibility !== 0 && visibility > this.settings.minVisibility;
  }

  /**
   * Grid units per landmark unit for `fitToGrid`: the grid's half side becomes the smallest
   * `range / 2 + k * FIT_STEP` (k a whole number, maybe negative) that holds the largest
   * coordinate of `points` with `margin` to spare; 1 when there is nothing to fit.
   */
  private fitScale(points: ReadonlyArray<GridPoint>): number {
    const half = this.settings.range / 2;
    const room = 1 - 2 * this.settings.margin;
    const extent = (p: GridPoint): number => Math.max(Math.abs(p.x), Math.abs(p.y), Math.abs(p.z));
    const largest = Math.max(0, ...points.map(extent));
    if (!(largest > 0) || !(room > 0) || !Number.isFinite(largest)) return 1;
    const steps = Math.ceil((largest / room - half) / FIT_STEP);
    const fittedHalf = half + steps * FIT_STEP;
    return fittedHalf > 0 ? half / fittedHalf : 1;
  }

  /** Grid frame (landmark units, y down, z away) to scene units (y up, z towards the viewer). */
  private toScene(p: { x: number; y: number; z: number }): THREE.Vector3 {
    const unit = GRID_SIZE / this.settings.range;
    return new THREE.Vector3(p.x * unit, -p.y * unit, -p.z * unit);
  }

  private drawLandmarks(positions: THREE.Vector3[]): void {
    const spheres = this.landmarkGroup.children;
    while (spheres.length < positions.length) {
      this.landmarkGroup.add(new THREE.Mesh(this.sphere, this.landmarkMaterial));
    }
    while (spheres.length > positions.length) {
      this.landmarkGroup.remove(spheres[spheres.length - 1] as THREE.Object3D);
    }
    positions.forEach((position, i) => {
      const mesh = spheres[i] as THREE.Mesh;
      const visible = (this.points[i] as GridPoint).visible;
      mesh.position.copy(position);
      mesh.material = visible ? this.landmarkMaterial : this.nonvisibleMaterial;
      mesh.visible = visible || this.settings.showHidden;
    });
  }

  /** Colour the visible landmarks of `indices` (every landmark if absent) in `color`. */
  private colorLandmarks(indices: number[] | undefined, color: ColorName | undefined): void {
    const material = this.paint(color).point;
    const all = this.points.map((_, i) => i);
    for (const i of indices ?? all) {
      const point = this.points[i];
      const mesh = this.landmarkGroup.children[i] as THREE.Mesh | undefined;
      if (point?.visible && mesh !== undefined) mesh.material = material;
    }
  }

  private drawConnections(positions: THREE.Vector3[], groups: ColorMap<Connection>): void {
    this.clearConnections();
    for (const { color, list } of groups) {
      const ends: number[] = [];
      for (const [a, b] of list) {
        if (a === undefined || b === undefined) continue;
        const from = this.points[a];
        const to = this.points[b];
        if (from === undefined || to === undefined) continue;
        if (!this.settings.showHidden && !(from.visible && to.visible)) continue;
        ends.push(...(positions[a] as THREE.Vector3).toArray());
        ends.push(...(positions[b] as THREE.Vector3).toArray());
      }
      if (ends.length === 0) continue;
      const geometry = new LineSegmentsGeometry().setPositions(ends);
      this.connectionGroup.add(new LineSegments2(geometry, this.paint(color).line));
    }
  }

  /** Remove the connections, freeing their geometry (their materials are kept for reuse). */
  private clearConnections(): void {
    for (const child of this.connectionGroup.children) (child as LineSegments2).geometry.dispose();
    this.connectionGroup.clear();
  }

  /**
   * The cube: cell lines on the back (z = -50), left (x = -50) and floor (y = -50) faces, and
   * the outline of those three faces in `axesColor`, all in scene units.
   */
  private makeCube(): THREE.Group {
    const h = GRID_SIZE / 2;
    const n = this.settings.numCellsPerAxis;
    const cells: number[] = [];
    // Each face is a square grid in two scene axes at a fixed value of the third.
    const face = (put: (u: number, v: number) => number[]): void => {
      for (let i = 0; i <= n; i++) {
        const t = -h + (i * GRID_SIZE) / n;
        cells.push(...put(t, -h), ...put(t, h), ...put(-h, t), ...put(h, t));
      }
    };
    face((u, v) => [u, v, -h]); // back
    face((u, v) => [-h, v, u]); // left
    face((u, v) => [u, -h, v]); // floor
    const cellGeometry = new THREE.BufferGeometry();
    cellGeometry.setAttribute("position", new THREE.Float32BufferAttribute(cells, 3));
    const cellMaterial = new THREE.LineBasicMaterial({ color: CELL_LINE_COLOR });
    const cellLines = new THREE.LineSegments(cellGeometry, cellMaterial);

    // The outline: the six edges where the three faces meet the open sides.
    const corners: Array<[number, number, number]> = [
      [-h, h, h],
      [-h, -h, h],
      [h, -h, h],
      [h, -h, -h],
      [h, h, -h],
      [-h, h, -h],
    ];
    const outline: number[] = [];
    corners.forEach((corner, i) => {
      outline.push(...corner, ...(corners[(i + 1) % corners.length] as number[]));
    });
    const outlineLines = new LineSegments2(
      new LineSegmentsGeometry().setPositions(outline),
      new LineMaterial({ color: this.settings.axesColor, linewidth: this.settings.axesWidth }),
    );
    outlineLines.renderOrder = 1; // over the cell lines it overlaps
    const cube = new THREE.Group();
    cube.add(cellLines, outlineLines);
    return cube;
  }

  /**
   * One label per grid line along three edges of the front: x along the bottom front edge
   * (but its left end), y up the front left edge, z along the bottom right edge (but its front
   * end), as the original places them.
   */
  private makeLabels(): void {
    const h = GRID_SIZE / 2;
    const n = this.settings.numCellsPerAxis;
    const at = (i: number): number => -h + (i * GRID_SIZE) / n;
    const add = (axis: AxisLabel["axis"], x: number, y: number, z: number): void => {
      const element = document.createElement("span");
      element.className = "landmark-label-js";
      this.container.append(element);
      this.labels.push({ element, axis, position: new THREE.Vector3(x, y, z) });
    };
    for (let i = 1; i <= n; i++) add("x", at(i), -h, h);
    for (let i = 0; i <= n; i++) add("y", -h, at(i), h);
    for (let i = 0; i < n; i++) add("z", h, -h, at(i));
  }

  /** Each label's text: the world coordinate (landmark units) of its grid line. */
  private setLabels(): void {
    const unit = GRID_SIZE / this.settings.range;
    for (const { element, axis, position } of this.labels) {
      // The scene flips y and z (see `toScene`).
      const grid = (axis === "x" ? position.x : -position[axis]) / unit;
      const world = grid / this.scale + this.origin[axis];
      const text = (Math.abs(world) < 1e-9 ? 0 : world).toPrecision(2);
      element.textContent = `${this.settings.labelPrefix}${text}${this.settings.labelSuffix}`;
    }
  }
}

/** `updateLandmarks`'s connections as colour groups (a plain list is one default group). */
function connectionGroups(
  connections: ConnectionList | ColorMap<Connection>,
): ColorMap<Connection> {
  const first = connections[0];
  if (first === undefined) return [];
  if (Array.isArray(first)) return [{ color: undefined, list: connections as ConnectionList }];
  return connections as ColorMap<Connection>;
}
